-- The generations this Neovim asked for: which are streaming in which buffer, and the last
-- one finished in each buffer (for :GeminiRevert and :GeminiRefine).
--
-- A generating command (contract.generating) is answered when the generation ends, so "in
-- flight" is simply "request not answered yet". Both live in the buffer's state (state.lua).

local apply_edit = require('gemini_lsp.apply_edit')
local cancel_key = require('gemini_lsp.cancel_key')
local client_mod = require('gemini_lsp.client')
local commands = require('gemini_lsp.contract').commands
local messages = require('gemini_lsp.messages')
local state = require('gemini_lsp.state')

local M = {}

local REQUEST_CANCELLED = -32800

---@class gemini_lsp.Flight
---@field command string
---@field request_id integer
---@field client_id integer
---@field started number vim.uv.now()

---@param bufnr integer
---@return integer
function M.count(bufnr)
  local buf = state.peek(bufnr)
  return buf and vim.tbl_count(buf.flights) or 0
end

---@return integer
function M.total()
  local n = 0
  for _, buf in pairs(state.all()) do
    n = n + vim.tbl_count(buf.flights)
  end
  return n
end

---@param bufnr integer
---@return string?
function M.last_id(bufnr)
  local buf = state.peek(bufnr)
  return buf and buf.last_id
end

---@param bufnr integer
---@param id string
local function remember(bufnr, id)
  state.of(bufnr).last_id = id
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.b[bufnr].gemini_lsp_last_id = id
  end
end

---@param bufnr integer
---@param data table
local function fire(pattern, bufnr, data)
  data.bufnr = bufnr
  vim.api.nvim_exec_autocmds('User', { pattern = pattern, modeline = false, data = data })
end

---@param bufnr integer
---@param request_id integer
---@param flight? gemini_lsp.Flight
local function land(bufnr, request_id, flight)
  state.of(bufnr).flights[request_id] = flight
  cancel_key.update(bufnr, M.count(bufnr) > 0, function()
    local client = client_mod.get(bufnr)
    if client then
      M.cancel(client, bufnr)
    end
  end)
end

---@param command string
---@param err lsp.ResponseError?
---@param result table?
---@param bufnr integer
local function report(command, err, result, bufnr)
  local id = type(result) == 'table' and result.id or nil
  apply_edit.seal(bufnr, id)
  if err then
    if err.code ~= REQUEST_CANCELLED then
      messages.error(err.message or ('%s failed'):format(command))
    end
  elseif type(result) == 'table' and result.id then
    remember(bufnr, result.id)
  end
  fire('GeminiLspDone', bufnr, { command = command, err = err, result = result })
end

--- Send a generating command; answer `on_done` when the generation ends.
---@param client vim.lsp.Client
---@param bufnr integer
---@param command string
---@param argument table
---@param on_done? fun(err: lsp.ResponseError?, result: table?)
---@return boolean sent
function M.run(client, bufnr, command, argument, on_done)
  local request_id
  local answered = false
  local ok, id = client_mod.execute(client, command, argument, bufnr, function(err, result)
    answered = true
    if request_id then
      land(bufnr, request_id, nil)
    end
    report(command, err, result, bufnr)
    if on_done then
      on_done(err, result)
    end
  end)
  if not ok or not id then
    messages.error('gemini-lsp is not running; see :checkhealth gemini_lsp')
    return false
  end
  request_id = id
  if not answered then
    land(bufnr, id, {
      command = command,
      request_id = id,
      client_id = client.id,
      started = vim.uv.now(),
    })
    fire('GeminiLspStart', bufnr, { command = command, argument = argument })
  end
  return true
end

--- Cancel the generations in a buffer (or all of them when bufnr is nil).
---@param client vim.lsp.Client
---@param bufnr? integer
---@param on_done? fun(err: lsp.ResponseError?, result: any)
function M.cancel(client, bufnr, on_done)
  local argument = vim.empty_dict()
  if bufnr then
    argument = { textDocument = { uri = vim.uri_from_bufnr(bufnr) } }
  end
  client_mod.execute(client, commands.cancel, argument, bufnr or 0, function(err, result)
    if err then
      messages.error(err.message or (commands.cancel .. ' failed'))
    end
    if on_done then
      on_done(err, result)
    end
  end)
end

--- Forget the flights of a client that left a buffer (it stopped or crashed: no answer
--- will come).
---@param client_id integer
---@param bufnr integer
function M.drop(client_id, bufnr)
  local buf = state.peek(bufnr)
  for request_id, flight in pairs(buf and buf.flights or {}) do
    if flight.client_id == client_id then
      land(bufnr, request_id, nil)
    end
  end
end

--- The flights of a buffer, oldest first.
---@param bufnr integer
---@return gemini_lsp.Flight[]
function M.flights(bufnr)
  local buf = state.peek(bufnr)
  local list = vim.tbl_values(buf and buf.flights or {})
  table.sort(list, function(a, b)
    return a.request_id < b.request_id
  end)
  return list
end

return M
