-- The cancel key (<C-c> by default): a buffer-local mapping that exists only while a
-- generation streams into the buffer. It cancels the buffer's generations; <C-c> then
-- also does what it does anyway (in Insert mode it still leaves Insert mode). Whatever
-- buffer-local mapping the key had before comes back afterwards.

local state = require('gemini_lsp.state')

local M = {}

local MODES = { 'n', 'i', 'x' }

---@return string|false
local function key()
  local keymaps = require('gemini_lsp.config').options.keymaps or {}
  return keymaps.cancel or false
end

---@param bufnr integer
---@param lhs string
---@param cancel fun()
local function map(bufnr, lhs, cancel)
  local saved = {}
  state.of(bufnr).cancel_maps = saved
  local passthrough = lhs:lower() == '<c-c>' and lhs or ''
  for _, mode in ipairs(MODES) do
    local old = vim.api.nvim_buf_call(bufnr, function()
      return vim.fn.maparg(lhs, mode, false, true)
    end)
    saved[mode] = (old.buffer == 1) and old or false
    vim.keymap.set(mode, lhs, function()
      vim.schedule(cancel)
      return passthrough
    end, {
      buffer = bufnr,
      expr = true,
      replace_keycodes = true,
      remap = false,
      desc = 'Gemini: cancel the generation',
    })
  end
end

---@param bufnr integer
---@param lhs string
local function unmap(bufnr, lhs)
  local buf = state.of(bufnr)
  for _, mode in ipairs(MODES) do
    pcall(vim.keymap.del, mode, lhs, { buffer = bufnr })
    local old = buf.cancel_maps and buf.cancel_maps[mode]
    if old then
      vim.api.nvim_buf_call(bufnr, function()
        vim.fn.mapset(mode, false, old)
      end)
    end
  end
  buf.cancel_maps = nil
end

--- Map the key while the buffer has generations in flight, unmap it after.
---@param bufnr integer
---@param generating boolean
---@param cancel fun() what the key does: cancel the buffer's generations
function M.update(bufnr, generating, cancel)
  local lhs = key()
  local buf = state.of(bufnr)
  if not lhs or not vim.api.nvim_buf_is_valid(bufnr) then
    buf.cancel_maps = nil
    return
  end
  if generating and not buf.cancel_maps then
    map(bufnr, lhs, cancel)
  elseif not generating and buf.cancel_maps then
    unmap(bufnr, lhs)
  end
end

return M
