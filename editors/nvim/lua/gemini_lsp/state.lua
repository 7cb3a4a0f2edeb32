-- Per-buffer state of the plugin, in one table: what each module remembers about a buffer.
-- A leaf module (it requires nothing), so every module can use it without a require cycle.

local M = {}

---@class gemini_lsp.BufferState
---@field flights table<integer, gemini_lsp.Flight> request id -> generation streaming in (generations)
---@field last_id? string the last generation that ended here (generations)
---@field undo_group? { label: string, tick: integer } the generation whose edits join one undo step (apply_edit)
---@field cancel_maps? table<string, table|false> mode -> mapping the cancel key hides while mapped (cancel_key)
---@field inline? gemini_lsp.InlineState the inline suggestion (inline)

---@type table<integer, gemini_lsp.BufferState>
local buffers = {}

--- The state of a buffer, created on first use.
---@param bufnr integer
---@return gemini_lsp.BufferState
function M.of(bufnr)
  local state = buffers[bufnr]
  if not state then
    state = { flights = {} }
    buffers[bufnr] = state
  end
  return state
end

--- The state of a buffer if it has any (reading never creates one).
---@param bufnr integer
---@return gemini_lsp.BufferState?
function M.peek(bufnr)
  return buffers[bufnr]
end

--- Every buffer with state: bufnr -> state. Callers must not add or remove buffers while
--- iterating.
---@return table<integer, gemini_lsp.BufferState>
function M.all()
  return buffers
end

return M
