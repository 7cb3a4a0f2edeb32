-- gemini_lsp: the public Lua API.
--
--   require('gemini_lsp').setup({ settings = { model = 'gemini-2.5-flash' } })
--
-- See :help gemini_lsp.

local config = require('gemini_lsp.config')
local client_mod = require('gemini_lsp.client')
local commands = require('gemini_lsp.contract').commands
local generations = require('gemini_lsp.generations')
local messages = require('gemini_lsp.messages')
local position = require('gemini_lsp.position')

local M = {}

--- Configure and enable the language server client.
---@param opts? gemini_lsp.Options
function M.setup(opts)
  -- The commands, when the plugin manager did not source plugin/ (see gemini_lsp.plugin).
  require('gemini_lsp.plugin').load()
  local options = config.set(opts)
  local cmd = options.cmd
  if type(cmd) == 'table' and cmd[1] and vim.fn.executable(cmd[1]) == 0 then
    -- Neovim would fail to start it in every buffer; one message that says what to do.
    local advice = require('gemini_lsp.health').install_advice()[1]
    messages.warn(('server `%s` not found: %s (:checkhealth gemini_lsp)'):format(cmd[1], advice))
    return
  end
  require('gemini_lsp.inline').setup(options.inline)
  client_mod.enable(config.lsp_config(options))
end

---@param bufnr integer
---@return vim.lsp.Client?
local function client_for(bufnr)
  local client = client_mod.get(bufnr)
  if not client then
    messages.warn('gemini-lsp is not attached to this buffer (see :checkhealth gemini_lsp)')
  end
  return client
end

---@param question string
---@param prompt string?
---@param then_ fun(prompt: string)
local function with_prompt(question, prompt, then_)
  if prompt and vim.trim(prompt) ~= '' then
    return then_(prompt)
  end
  vim.ui.input({ prompt = question }, function(input)
    if input and vim.trim(input) ~= '' then
      then_(input)
    end
  end)
end

--- Generate at the cursor of the current window. Asks for the prompt when it is empty.
---@param prompt? string
---@param extra? table more fields of the command argument (model, attachments)
function M.generate(prompt, extra)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then
    return
  end
  local at = position.cursor(bufnr, client.offset_encoding)
  with_prompt('Gemini: ', prompt, function(text)
    generations.run(client, bufnr, commands.generate, vim.tbl_extend('force', extra or {}, {
      textDocument = { uri = vim.uri_from_bufnr(bufnr) },
      position = at,
      prompt = text,
    }))
  end)
end

--- Rewrite lines (or a characterwise selection) of the current buffer.
---@param prompt? string
---@param lines gemini_lsp.Lines see gemini_lsp.position
---@param extra? table
function M.rewrite(prompt, lines, extra)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then
    return
  end
  local range = position.range(bufnr, lines, client.offset_encoding)
  with_prompt('Gemini (rewrite): ', prompt, function(text)
    generations.run(client, bufnr, commands.edit, vim.tbl_extend('force', extra or {}, {
      textDocument = { uri = vim.uri_from_bufnr(bufnr) },
      range = range,
      prompt = text,
    }))
  end)
end

--- Refine the last generation of the current buffer with a new instruction.
---@param prompt? string
function M.refine(prompt)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then
    return
  end
  local id = generations.last_id(bufnr)
  if not id then
    return messages.warn('No Gemini generation to refine in this buffer yet')
  end
  with_prompt(('Gemini (refine %s): '):format(id), prompt, function(text)
    generations.run(client, bufnr, commands.refine, { id = id, prompt = text })
  end)
end

---@param result any
---@return string[]
local function ids_of(result)
  if type(result) ~= 'table' then
    return {}
  end
  if vim.islist(result) then
    return result
  end
  return result.ids or result.cancelled or (result.id and { result.id }) or {}
end

--- Cancel the generations of the current buffer, or all of them.
---@param all? boolean
function M.cancel(all)
  local bufnr = vim.api.nvim_get_current_buf()
  local clients = all and client_mod.all() or { client_mod.get(bufnr) }
  for _, client in ipairs(clients) do
    generations.cancel(client, not all and bufnr or nil, function(err, result)
      if not err then
        local ids = ids_of(result)
        local what = #ids > 0 and 'cancelled ' .. table.concat(ids, ', ') or 'nothing to cancel'
        vim.api.nvim_echo({ { 'Gemini: ' .. what } }, false, {})
      end
    end)
  end
end

--- Revert a generation: the one given, else the latest in the current buffer.
---@param id? string
function M.revert(id)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then
    return
  end
  local argument = id and id ~= '' and { id = id }
    or { textDocument = { uri = vim.uri_from_bufnr(bufnr) } }
  client_mod.execute(client, commands.revert, argument, bufnr, function(err, result)
    if err then
      return messages.error(err.message or (commands.revert .. ' failed'))
    end
    local ids = ids_of(result)
    local what = #ids > 0 and table.concat(ids, ', ') or (id or 'the last generation')
    vim.api.nvim_echo({ { 'Gemini: reverted ' .. what } }, false, {})
  end)
end

--- What is streaming now, for a statusline: '' when nothing is.
---@return string
function M.statusline()
  return require('gemini_lsp.progress').statusline()
end

---@class gemini_lsp.Status
---@field attached boolean the client is attached to the current buffer
---@field client_id integer?
---@field generating integer generations streaming into the buffer
---@field last_id string? the last generation that ended in the buffer
---@field progress string what is streaming now ('' when nothing is)

--- The state of the plugin in the current buffer.
---@return gemini_lsp.Status
function M.status()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_mod.get(bufnr)
  return {
    attached = client ~= nil,
    client_id = client and client.id,
    generating = generations.count(bufnr),
    last_id = generations.last_id(bufnr),
    progress = M.statusline(),
  }
end

return M
