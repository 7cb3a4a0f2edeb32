-- The generations this Neovim asked for: which are streaming in which buffer, and the last
-- one finished in each buffer (for :GeminiRevert and :GeminiRefine).
--
-- A generating command (gemini.generate / gemini.edit / gemini.refine) is answered when
-- the generation ends, so "in flight" is simply "request not answered yet".

local client_mod = require('gemini_lsp.client')
local messages = require('gemini_lsp.messages')

local M = {}

local REQUEST_CANCELLED = -32800

---@class gemini_lsp.Flight
---@field command string
---@field request_id integer
---@field client_id integer
---@field started number vim.uv.now()

---@type table<integer, table<integer, gemini_lsp.Flight>> bufnr -> request id -> flight
local flights = {}

---@type table<integer, string> bufnr -> id of the last generation that ended there
local last_ids = {}

---@param bufnr integer
---@return integer
function M.count(bufnr)
  return vim.tbl_count(flights[bufnr] or {})
end

---@return integer
function M.total()
  local n = 0
  for _, per_buf in pairs(flights) do
    n = n + vim.tbl_count(per_buf)
  end
  return n
end

---@param bufnr integer
---@return string?
function M.last_id(bufnr)
  return last_ids[bufnr]
end

---@param bufnr integer
---@param id string
local function remember(bufnr, id)
  last_ids[bufnr] = id
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
  local per_buf = flights[bufnr]
  if per_buf then
    per_buf[request_id] = flight
    if next(per_buf) == nil then
      flights[bufnr] = nil
    end
  elseif flight then
    flights[bufnr] = { [request_id] = flight }
  end
  require('gemini_lsp.cancel_key').update(bufnr, M.count(bufnr) > 0)
end

---@param command string
---@param err lsp.ResponseError?
---@param result table?
---@param bufnr integer
local function report(command, err, result, bufnr)
  local id = type(result) == 'table' and result.id or nil
  require('gemini_lsp.apply_edit').seal(bufnr, id)
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
  client_mod.execute(client, 'gemini.cancel', argument, bufnr or 0, function(err, result)
    if err then
      messages.error(err.message or 'gemini.cancel failed')
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
  for request_id, flight in pairs(flights[bufnr] or {}) do
    if flight.client_id == client_id then
      land(bufnr, request_id, nil)
    end
  end
end

--- The flights of a buffer, oldest first.
---@param bufnr integer
---@return gemini_lsp.Flight[]
function M.flights(bufnr)
  local list = vim.tbl_values(flights[bufnr] or {})
  table.sort(list, function(a, b)
    return a.request_id < b.request_id
  end)
  return list
end

return M
