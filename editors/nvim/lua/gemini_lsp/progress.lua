-- Progress of the generations, from the server's $/progress (the LspProgress autocmd):
-- echoed in the command line (throttled, and silent when nothing streams) and available
-- to statuslines through require('gemini_lsp').statusline(). Progress plugins such as
-- fidget.nvim read the same events; set `progress = false` to leave the display to them.

local config = require('gemini_lsp.config')

local M = {}

local ECHO_EVERY_MS = 100

---@class gemini_lsp.Work
---@field title string
---@field message string?
---@field percentage integer?

---@type table<string, gemini_lsp.Work> "client_id:token" -> work in progress
local works = {}
local last_echo = 0

---@param work gemini_lsp.Work
---@return string
local function describe(work)
  local text = work.title or 'Gemini'
  if work.message and work.message ~= '' then
    text = text .. ': ' .. work.message
  end
  if work.percentage then
    text = ('%s (%d%%)'):format(text, work.percentage)
  end
  return text
end

--- Show the news, at most every ECHO_EVERY_MS unless forced (begin and end always show).
---@param text string
---@param force boolean
local function show(text, force)
  local now = vim.uv.now()
  if not force and now - last_echo < ECHO_EVERY_MS then
    return
  end
  last_echo = now
  if config.options.progress then
    vim.api.nvim_echo({ { text, 'ModeMsg' } }, false, {})
  end
  vim.cmd('redrawstatus')
end

--- LspProgress autocmd callback.
---@param ev { data: { client_id: integer, params: lsp.ProgressParams } }
function M.on_progress(ev)
  local data = ev.data or {}
  local client = data.client_id and vim.lsp.get_client_by_id(data.client_id)
  if not client or client.name ~= config.name then
    return
  end
  local value = data.params and data.params.value
  if type(value) ~= 'table' then
    return
  end
  local key = ('%d:%s'):format(data.client_id, tostring(data.params.token))
  if value.kind == 'begin' then
    works[key] = { title = value.title, message = value.message, percentage = value.percentage }
    show(describe(works[key]), true)
  elseif value.kind == 'report' and works[key] then
    local work = works[key]
    work.message = value.message or work.message
    work.percentage = value.percentage or work.percentage
    show(describe(work), false)
  elseif value.kind == 'end' then
    local work = works[key] or { title = value.title or 'Gemini' }
    works[key] = nil
    work.message, work.percentage = value.message, nil
    show(describe(work), true)
  end
end

--- What is streaming now, for a statusline ('' when nothing is).
---@return string
function M.statusline()
  local parts = {}
  for _, work in pairs(works) do
    parts[#parts + 1] = describe(work)
  end
  table.sort(parts)
  return table.concat(parts, ' | ')
end

--- Forget the work of a client that stopped.
---@param client_id integer
function M.drop(client_id)
  local prefix = client_id .. ':'
  for key in pairs(works) do
    if vim.startswith(key, prefix) then
      works[key] = nil
    end
  end
end

return M
