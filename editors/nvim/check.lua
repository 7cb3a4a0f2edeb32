-- `make nvim-check`: this Neovim is recent enough, every module of the plugin loads and
-- the help file's tags build.
-- Run with `nvim --headless --clean --cmd 'set rtp^=editors/nvim' -l editors/nvim/check.lua`.

assert(vim.fn.has('nvim-0.10') == 1, 'Neovim 0.10+ is needed, this is ' .. tostring(vim.version()))

local root = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2))
local failures = {}
for name, kind in vim.fs.dir(root, { depth = 4 }) do
  if kind == 'file' and name:match('%.lua$') then
    local chunk, err = loadfile(vim.fs.joinpath(root, name))
    if not chunk then
      failures[#failures + 1] = err
    end
  end
end
for _, module in ipairs({
  'gemini_lsp',
  'gemini_lsp.apply_edit',
  'gemini_lsp.cancel_key',
  'gemini_lsp.client',
  'gemini_lsp.code_actions',
  'gemini_lsp.commands',
  'gemini_lsp.config',
  'gemini_lsp.contract',
  'gemini_lsp.generations',
  'gemini_lsp.health',
  'gemini_lsp.inline',
  'gemini_lsp.messages',
  'gemini_lsp.plugin',
  'gemini_lsp.position',
  'gemini_lsp.progress',
  'gemini_lsp.state',
}) do
  local ok, err = pcall(require, module)
  if not ok then
    failures[#failures + 1] = err
  end
end
local ok, err = pcall(require('gemini_lsp.config').lsp_config)
if not ok then
  failures[#failures + 1] = err
end

-- The help file's tags build (no duplicates), in a copy: tags files stay out of the tree.
local doc = vim.fn.tempname()
vim.fn.mkdir(doc, 'p')
local help = vim.fn.readfile(vim.fs.joinpath(root, 'doc', 'gemini_lsp.txt'))
vim.fn.writefile(help, doc .. '/gemini_lsp.txt')
ok, err = pcall(vim.cmd.helptags, doc)
if not ok then
  failures[#failures + 1] = 'doc/gemini_lsp.txt: ' .. tostring(err)
end
vim.fn.delete(doc, 'rf')

if #failures > 0 then
  io.stderr:write(table.concat(failures, '\n') .. '\n')
  os.exit(1)
end
io.stdout:write(('gemini_lsp: plugin and help load in Neovim %s\n'):format(tostring(vim.version())))
