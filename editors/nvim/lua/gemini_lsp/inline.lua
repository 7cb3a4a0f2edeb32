-- Inline completions: Gemini's suggestion as ghost text while you type.
--
-- Neovim 0.12+ has vim.lsp.inline_completion, which this module turns on for the gemini_lsp
-- client. On 0.10 and 0.11 it shows the suggestion itself: an extmark at the cursor (inline
-- virtual text for the first line, virtual lines for the rest), asked for at every change in
-- Insert mode (the server waits for a pause in typing and answers from its cache while you
-- type the suggestion), accepted with a key, gone when you type something else or leave
-- Insert mode.
--
-- The accept key defaults to <C-l>: free in Insert mode, and no completion menu uses it
-- (<Tab>, <C-y>, <C-n>, <C-p> and <CR> stay theirs). When there is no suggestion the key
-- does what it did before.

local client_mod = require('gemini_lsp.client')
local state = require('gemini_lsp.state')

local M = {}

---@class gemini_lsp.InlineOptions
---@field enabled? boolean suggestions on at start (:GeminiInline on|off)
---@field accept? string|false Insert-mode key that accepts the suggestion
---@field native? boolean use vim.lsp.inline_completion where Neovim has it (0.12+)

---@type gemini_lsp.InlineOptions
M.defaults = { enabled = true, accept = '<C-l>', native = true }

---@type gemini_lsp.InlineOptions
M.options = vim.deepcopy(M.defaults)

local METHOD = 'textDocument/inlineCompletion'
local AUTOMATIC = 2
local HIGHLIGHT = 'GeminiInlineSuggestion'
local ns = vim.api.nvim_create_namespace('gemini_lsp.inline')

---@class gemini_lsp.Suggestion
---@field row integer 0-based
---@field col integer byte column
---@field text string
---@field line string the cursor's line when it was shown

---@class gemini_lsp.InlineState
---@field request_id? integer
---@field client_id? integer
---@field suggestion? gemini_lsp.Suggestion
---@field asked integer requests sent (for tests)

local function native()
  return M.options.native and vim.lsp.inline_completion ~= nil
end

--- The buffer's inline state, created on first use.
---@param bufnr integer
---@return gemini_lsp.InlineState
local function inline_of(bufnr)
  local buf = state.of(bufnr)
  buf.inline = buf.inline or { asked = 0 }
  return buf.inline
end

--- The buffer's inline state if it has one.
---@param bufnr integer
---@return gemini_lsp.InlineState?
local function existing(bufnr)
  local buf = state.peek(bufnr)
  return buf and buf.inline
end

---@return integer row 0-based, integer col byte column
local function cursor()
  local pos = vim.api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

---@param bufnr integer
---@param row integer
---@return string
local function line_at(bufnr, row)
  return vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
end

--- Remove the buffer's ghost text.
---@param bufnr integer
function M.clear(bufnr)
  local st = existing(bufnr)
  if st then
    st.suggestion = nil
  end
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  end
end

---@param bufnr integer
---@param row integer
---@param col integer
---@param text string
local function show(bufnr, row, col, text)
  M.clear(bufnr)
  local lines = vim.split(text, '\n', { plain = true })
  local opts = {
    virt_text = { { lines[1], HIGHLIGHT } },
    virt_text_pos = 'inline',
    hl_mode = 'combine',
  }
  if #lines > 1 then
    opts.virt_lines = vim.tbl_map(function(l)
      return { { l, HIGHLIGHT } }
    end, vim.list_slice(lines, 2))
  end
  vim.api.nvim_buf_set_extmark(bufnr, ns, row, col, opts)
  inline_of(bufnr).suggestion = { row = row, col = col, text = text, line = line_at(bufnr, row) }
end

--- client:cancel_request on 0.11, client.cancel_request on 0.10 (whose validation rejects
--- the method call's extra argument).
---@param client vim.lsp.Client
---@param id integer
local function cancel_request(client, id)
  if not pcall(client.cancel_request, client, id) then
    ---@diagnostic disable-next-line: param-type-mismatch
    pcall(client.cancel_request, id)
  end
end

---@param item table
---@return string
local function text_of(item)
  local text = item.insertText
  if type(text) == 'table' then -- a snippet: shown as its text
    text = text.value
  end
  return type(text) == 'string' and text or ''
end

--- Ask the server for a suggestion at the cursor; the answer shows if the cursor is still
--- where it was asked for.
---@param bufnr integer
---@param kind integer 1 Invoked, 2 Automatic
function M.request(bufnr, kind)
  local client = client_mod.get(bufnr)
  if not client or not M.enabled then
    return
  end
  local st = inline_of(bufnr)
  if st.request_id and st.client_id == client.id then
    cancel_request(client, st.request_id) -- the server stops its model call at once
  end
  local row, col = cursor()
  local character = vim.lsp.util.character_offset(bufnr, row, col, client.offset_encoding)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = row, character = character },
    context = { triggerKind = kind },
  }
  local id ---@type integer?
  local ok
  ok, id = client_mod.request(client, METHOD, params, function(err, result)
    if st.request_id == id then
      st.request_id = nil
    end
    if err or type(result) ~= 'table' or not M.enabled then
      return
    end
    local item = (result.items or result)[1]
    if not item or vim.api.nvim_get_current_buf() ~= bufnr then
      return
    end
    if not vim.startswith(vim.api.nvim_get_mode().mode, 'i') then
      return
    end
    local now_row, now_col = cursor()
    local start = item.range and item.range.start or params.position
    local here = vim.lsp.util.character_offset(bufnr, now_row, now_col, client.offset_encoding)
    if start.line ~= now_row or start.character ~= here then
      return -- for a place the cursor has left
    end
    local text = text_of(item)
    if text ~= '' then
      show(bufnr, now_row, now_col, text)
    end
  end, bufnr)
  if ok then
    st.request_id, st.client_id = id, client.id
    st.asked = st.asked + 1
  end
end

--- After a change in Insert mode: typed text that the suggestion starts with moves it on
--- (the server's cache answers the request too, without asking Gemini); anything else
--- dismisses it.
---@param bufnr integer
local function on_change(bufnr)
  local st = inline_of(bufnr)
  local s = st.suggestion
  if s then
    local row, col = cursor()
    local line = line_at(bufnr, row)
    local head, tail = s.line:sub(1, s.col), s.line:sub(s.col + 1)
    local typed = line:sub(s.col + 1, col)
    if
      row == s.row
      and col > s.col
      and line:sub(1, s.col) == head
      and line:sub(col + 1) == tail
      and #typed < #s.text
      and vim.startswith(s.text, typed)
    then
      show(bufnr, row, col, s.text:sub(#typed + 1))
    else
      M.clear(bufnr)
    end
  end
  M.request(bufnr, AUTOMATIC)
end

--- Insert the suggestion at the cursor. False when there is none to insert.
---@return boolean
function M.accept()
  local bufnr = vim.api.nvim_get_current_buf()
  local st = existing(bufnr)
  local s = st and st.suggestion
  if not s then
    return false
  end
  local row, col = cursor()
  M.clear(bufnr)
  if row ~= s.row or col ~= s.col then
    return false
  end
  local lines = vim.split(s.text, '\n', { plain = true })
  vim.api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
  local last = row + #lines - 1
  local last_col = #lines == 1 and col + #lines[1] or #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { last + 1, last_col })
  return true
end

--- The suggestion shown in a buffer ('' when none), for statuslines and tests.
---@param bufnr? integer
---@return string
function M.current(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local st = existing(bufnr)
  return st and st.suggestion and st.suggestion.text or ''
end

--- Requests sent from a buffer so far (for tests).
---@param bufnr? integer
---@return integer
function M.asked(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local st = existing(bufnr)
  return st and st.asked or 0
end

---@param lhs string
local function feed(lhs)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(lhs, true, false, true), 'n', false)
end

---@param bufnr integer
---@param client vim.lsp.Client
local function attach(bufnr, client)
  local accept = M.options.accept
  if native() then
    vim.lsp.inline_completion.enable(M.enabled, { bufnr = bufnr, client_id = client.id })
    if accept then
      vim.keymap.set('i', accept, function()
        if not (M.enabled and vim.lsp.inline_completion.get({ bufnr = bufnr })) then
          feed(accept)
        end
      end, { buffer = bufnr, desc = 'Gemini: accept the suggestion' })
    end
    return
  end
  local group = vim.api.nvim_create_augroup('gemini_lsp.inline.' .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd('TextChangedI', {
    group = group,
    buffer = bufnr,
    desc = 'gemini_lsp: ask for a suggestion',
    callback = function()
      on_change(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave' }, {
    group = group,
    buffer = bufnr,
    desc = 'gemini_lsp: dismiss the suggestion',
    callback = function()
      M.clear(bufnr)
      local st = existing(bufnr)
      local c = st and st.request_id and vim.lsp.get_client_by_id(st.client_id or -1)
      if c then
        cancel_request(c, st.request_id)
        st.request_id = nil
      end
    end,
  })
  vim.api.nvim_create_autocmd('CursorMovedI', {
    group = group,
    buffer = bufnr,
    desc = 'gemini_lsp: dismiss a suggestion the cursor left',
    callback = function()
      local st = existing(bufnr)
      local s = st and st.suggestion
      local row, col = cursor()
      if s and (row ~= s.row or col ~= s.col) then
        M.clear(bufnr)
      end
    end,
  })
  if accept then
    vim.keymap.set('i', accept, function()
      if not M.accept() then
        feed(accept)
      end
    end, { buffer = bufnr, desc = 'Gemini: accept the suggestion' })
  end
end

---@param bufnr integer
local function detach(bufnr)
  M.clear(bufnr)
  local buf = state.peek(bufnr)
  if buf then
    buf.inline = nil
  end
  pcall(vim.api.nvim_del_augroup_by_name, 'gemini_lsp.inline.' .. bufnr)
end

--- Turn suggestions on or off everywhere.
---@param on boolean
function M.set_enabled(on)
  M.enabled = on
  for bufnr, buf in pairs(state.all()) do
    local st = buf.inline
    if st and not on then
      M.clear(bufnr)
      local c = st.request_id and vim.lsp.get_client_by_id(st.client_id or -1)
      if c then
        cancel_request(c, st.request_id)
        st.request_id = nil
      end
    end
  end
  if native() then
    for _, client in ipairs(client_mod.all()) do
      vim.lsp.inline_completion.enable(on, { client_id = client.id })
    end
  end
end

--- :GeminiInline on|off (no argument: toggle).
---@param word string
function M.command(word)
  if word == 'on' or word == 'off' then
    M.set_enabled(word == 'on')
  elseif word == '' then
    M.set_enabled(not M.enabled)
  else
    return vim.notify('GeminiInline: on, off, or nothing to toggle', vim.log.levels.ERROR)
  end
  local what = 'Gemini inline suggestions ' .. (M.enabled and 'on' or 'off')
  vim.api.nvim_echo({ { what } }, false, {})
end

---@param opts? gemini_lsp.InlineOptions|false
function M.setup(opts)
  if opts == false then
    opts = { enabled = false }
  end
  M.options = vim.tbl_extend('force', vim.deepcopy(M.defaults), opts or {})
  M.enabled = M.options.enabled ~= false
  vim.api.nvim_set_hl(0, HIGHLIGHT, { link = 'Comment', default = true })
  local group = vim.api.nvim_create_augroup('gemini_lsp.inline', { clear = true })
  vim.api.nvim_create_autocmd('LspAttach', {
    group = group,
    desc = 'gemini_lsp: inline suggestions in the buffer',
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == require('gemini_lsp.config').name then
        attach(ev.buf, client)
      end
    end,
  })
  vim.api.nvim_create_autocmd('LspDetach', {
    group = group,
    desc = 'gemini_lsp: no more inline suggestions in the buffer',
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == require('gemini_lsp.config').name then
        detach(ev.buf)
      end
    end,
  })
end

M.enabled = true

return M
