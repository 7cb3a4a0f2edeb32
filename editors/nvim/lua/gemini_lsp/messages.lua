-- Messages to the user. A failed generation reaches us twice (the request's error and the
-- server's window/showMessage); the user sees it once.

local M = {}

local TITLE = 'gemini-lsp'
local REPEAT_WINDOW_MS = 5000

---@type table<string, number>
local recent = {}

---@param msg string
---@return boolean
local function seen_recently(msg)
  local now = vim.uv.now()
  for text, at in pairs(recent) do
    if now - at > REPEAT_WINDOW_MS then
      recent[text] = nil
    end
  end
  if recent[msg] then
    return true
  end
  recent[msg] = now
  return false
end

---@param msg string
---@param level integer vim.log.levels.*
function M.notify(msg, level)
  msg = vim.trim(msg or '')
  if msg == '' or seen_recently(msg) then
    return
  end
  vim.notify(msg, level, { title = TITLE })
end

---@param msg string
function M.error(msg)
  M.notify(msg, vim.log.levels.ERROR)
end

---@param msg string
function M.warn(msg)
  M.notify(msg, vim.log.levels.WARN)
end

---@param msg string
function M.info(msg)
  vim.notify(msg, vim.log.levels.INFO, { title = TITLE })
end

local levels = {
  [1] = vim.log.levels.ERROR,
  [2] = vim.log.levels.WARN,
  [3] = vim.log.levels.INFO,
  [4] = vim.log.levels.DEBUG,
}

--- `window/showMessage` handler (server -> client notification).
---@param params lsp.ShowMessageParams
function M.show_message_handler(_, params, _)
  if params and params.message then
    M.notify(params.message, levels[params.type] or vim.log.levels.INFO)
  end
  return vim.NIL
end

return M
