-- workspace/applyEdit for the gemini-lsp client.
--
-- Two differences from Neovim's default handler:
-- * A versioned edit made for an older buffer is refused (`applied = false`) so the server
--   re-plans it; Neovim's default prints a message, skips it and answers `applied = true`.
-- * The edits of one generation (same label, "Gemini generation g3") form one undo step:
--   an edit joins the previous one when nothing else changed the buffer in between, so the
--   user's own changes always keep their own undo steps. When the generation's request is
--   answered its group is sealed (seal()): a later edit with its label, such as a revert,
--   is a step of its own. The default handler also prints every label; streaming sends
--   hundreds of them.

local contract = require('gemini_lsp.contract')
local state = require('gemini_lsp.state')

local M = {}

local util = vim.lsp.util

---@param uri string
---@return integer? bufnr of a loaded buffer for uri
local function loaded_buffer(uri)
  local bufnr = vim.uri_to_bufnr(uri)
  if vim.api.nvim_buf_is_loaded(bufnr) then
    return bufnr
  end
end

--- The reason a versioned edit no longer fits its buffer, if it does not.
---@param edit lsp.WorkspaceEdit
---@return string?
function M.stale_reason(edit)
  for _, change in ipairs(edit.documentChanges or {}) do
    local doc = change.textDocument
    if doc and change.kind == nil and type(doc.version) == 'number' then
      local bufnr = loaded_buffer(doc.uri)
      local current = bufnr and util.buf_versions[bufnr]
      if current and current ~= doc.version then
        return ('%s changed: version %d, edit made for %d'):format(
          vim.fn.fnamemodify(vim.uri_to_fname(doc.uri), ':t'),
          current,
          doc.version
        )
      end
    end
  end
end

---@param edit lsp.WorkspaceEdit
---@return integer[]
local function touched_buffers(edit)
  local seen, bufs = {}, {}
  local function add(uri)
    local bufnr = vim.uri_to_bufnr(uri)
    if not seen[bufnr] then
      seen[bufnr] = true
      bufs[#bufs + 1] = bufnr
    end
  end
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.textDocument then
      add(change.textDocument.uri)
    end
  end
  for uri in pairs(edit.changes or {}) do
    add(uri)
  end
  return bufs
end

---@param bufnr integer
---@param label string?
local function join_undo(bufnr, label)
  local buf = state.peek(bufnr)
  local prev = buf and buf.undo_group
  if not (label and prev and prev.label == label) then
    return
  end
  if not vim.api.nvim_buf_is_loaded(bufnr) then
    return
  end
  if vim.api.nvim_buf_get_changedtick(bufnr) ~= prev.tick then
    return -- the user (or something else) changed the buffer: keep their undo step
  end
  -- E790 after an undo: then this edit simply starts a new step.
  pcall(vim.api.nvim_buf_call, bufnr, function()
    vim.cmd('silent! undojoin')
  end)
end

--- Whether a label names a streaming generation ("Gemini generation g3").
---@param label string?
---@return boolean
function M.is_generation(label)
  return type(label) == 'string' and vim.startswith(label, contract.generation_label_prefix)
end

--- End the undo group of a generation that has ended (a later edit with its label, such
--- as a revert, is an undo step of its own). Without an id, end every group of the buffer.
---@param bufnr integer
---@param id? string
function M.seal(bufnr, id)
  local buf = state.peek(bufnr)
  local prev = buf and buf.undo_group
  if prev and (id == nil or prev.label == contract.generation_label_prefix .. id) then
    buf.undo_group = nil
  end
end

--- Apply an edit, grouping the edits of one generation into one undo step.
---@param edit lsp.WorkspaceEdit
---@param label string?
---@param encoding string
function M.apply(edit, label, encoding)
  local group = M.is_generation(label) and label or nil
  local bufs = touched_buffers(edit)
  for _, bufnr in ipairs(bufs) do
    join_undo(bufnr, group)
  end
  util.apply_workspace_edit(edit, encoding)
  for _, bufnr in ipairs(bufs) do
    if group and vim.api.nvim_buf_is_loaded(bufnr) then
      local tick = vim.api.nvim_buf_get_changedtick(bufnr)
      state.of(bufnr).undo_group = { label = group, tick = tick }
    elseif state.peek(bufnr) then
      state.peek(bufnr).undo_group = nil
    end
  end
end

--- The `workspace/applyEdit` handler (server -> client request).
---@param params lsp.ApplyWorkspaceEditParams
---@param ctx lsp.HandlerContext
---@return lsp.ApplyWorkspaceEditResult
function M.handler(_, params, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not (client and params and params.edit) then
    return { applied = false, failureReason = 'no client or no edit' }
  end
  local stale = M.stale_reason(params.edit)
  if stale then
    return { applied = false, failureReason = stale }
  end
  local ok, err = pcall(M.apply, params.edit, params.label, client.offset_encoding)
  if not ok then
    return { applied = false, failureReason = tostring(err) }
  end
  return { applied = true }
end

return M
