-- The cancel key (<C-c> by default): a buffer-local mapping that exists only while a
-- generation streams into the buffer. It cancels the buffer's generations; <C-c> then
-- also does what it does anyway (in Insert mode it still leaves Insert mode). Whatever
-- buffer-local mapping the key had before comes back afterwards.

local M = {}

local MODES = { 'n', 'i', 'x' }

---@type table<integer, table<string, table|false>> bufnr -> mode -> saved mapping
local saved = {}

---@return string|false
local function key()
  local keymaps = require('gemini_lsp.config').options.keymaps or {}
  return keymaps.cancel or false
end

---@param bufnr integer
local function cancel(bufnr)
  local client = require('gemini_lsp.client').get(bufnr)
  if client then
    require('gemini_lsp.generations').cancel(client, bufnr)
  end
end

---@param bufnr integer
---@param lhs string
local function map(bufnr, lhs)
  saved[bufnr] = {}
  local passthrough = lhs:lower() == '<c-c>' and lhs or ''
  for _, mode in ipairs(MODES) do
    local old = vim.api.nvim_buf_call(bufnr, function()
      return vim.fn.maparg(lhs, mode, false, true)
    end)
    saved[bufnr][mode] = (old.buffer == 1) and old or false
    vim.keymap.set(mode, lhs, function()
      vim.schedule(function()
        cancel(bufnr)
      end)
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
  for _, mode in ipairs(MODES) do
    pcall(vim.keymap.del, mode, lhs, { buffer = bufnr })
    local old = saved[bufnr] and saved[bufnr][mode]
    if old then
      vim.api.nvim_buf_call(bufnr, function()
        vim.fn.mapset(mode, false, old)
      end)
    end
  end
  saved[bufnr] = nil
end

--- Map the key while the buffer has generations in flight, unmap it after.
---@param bufnr integer
---@param generating boolean
function M.update(bufnr, generating)
  local lhs = key()
  if not lhs or not vim.api.nvim_buf_is_valid(bufnr) then
    saved[bufnr] = nil
    return
  end
  if generating and not saved[bufnr] then
    map(bufnr, lhs)
  elseif not generating and saved[bufnr] then
    unmap(bufnr, lhs)
  end
end

return M
