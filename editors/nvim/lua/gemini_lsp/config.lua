-- Options of the plugin and the vim.lsp.Config built from them.

local M = {}

--- The name of the LSP client (and of the vim.lsp.config entry).
M.name = 'gemini_lsp'

--- The `gemini.*` commands the server lists in executeCommandProvider (contract.lua,
--- generated from the server's contract).
M.server_commands = require('gemini_lsp.contract').command_ids

---@class gemini_lsp.Options
---@field cmd? string[] how to start the server
---@field filetypes? string[] nil: every filetype
---@field root_markers? string[]
---@field settings? table the `geminiLsp` settings, camelCase as in the server's docs
---@field debounce? integer didChange debounce in ms (0: send every change at once)
---@field versioned_edits? boolean advertise versioned `documentChanges`
---@field progress? boolean echo progress in the command line
---@field keymaps? { cancel?: string|false }
---@field inline? gemini_lsp.InlineOptions|false inline suggestions (lua/gemini_lsp/inline.lua)

---@type gemini_lsp.Options
M.defaults = {
  cmd = { 'gemini-lsp' },
  filetypes = nil,
  root_markers = { '.git' },
  settings = {},
  debounce = 0,
  versioned_edits = true,
  progress = true,
  keymaps = { cancel = '<C-c>' },
}

---@type gemini_lsp.Options
M.options = vim.deepcopy(M.defaults)

---@param opts? gemini_lsp.Options
---@return gemini_lsp.Options
function M.set(opts)
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  -- Lists replace, never merge index by index.
  for _, key in ipairs({ 'cmd', 'filetypes', 'root_markers' }) do
    if opts and opts[key] ~= nil then
      M.options[key] = opts[key]
    end
  end
  return M.options
end

---@return lsp.ClientCapabilities
local function capabilities(opts)
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.workspace = caps.workspace or {}
  caps.workspace.workspaceEdit = caps.workspace.workspaceEdit or {}
  caps.workspace.workspaceEdit.documentChanges = opts.versioned_edits and true or false
  caps.window = caps.window or {}
  caps.window.workDoneProgress = true
  return caps
end

--- The client configuration for vim.lsp.config / vim.lsp.start.
---@param opts? gemini_lsp.Options
---@return vim.lsp.Config
function M.lsp_config(opts)
  opts = opts or M.options
  local gemini = vim.deepcopy(opts.settings or {})
  if vim.tbl_isempty(gemini) then
    gemini = vim.empty_dict() -- `{}` on the wire, not `[]`
  end
  local settings = { geminiLsp = gemini }
  return {
    name = M.name,
    cmd = opts.cmd,
    filetypes = opts.filetypes,
    root_markers = opts.root_markers,
    settings = settings,
    init_options = settings,
    capabilities = capabilities(opts),
    flags = { debounce_text_changes = opts.debounce },
    handlers = {
      ['workspace/applyEdit'] = require('gemini_lsp.apply_edit').handler,
      ['window/showMessage'] = require('gemini_lsp.messages').show_message_handler,
    },
    commands = require('gemini_lsp.code_actions').handlers(),
  }
end

return M
