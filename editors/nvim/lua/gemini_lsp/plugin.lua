-- What plugin/gemini_lsp.lua does, callable from setup() too: the user commands, two
-- autocommands and the help tags. Some installs never source plugin/ (lazy.nvim with this
-- folder appended to 'runtimepath' from a `config` function), so setup() loads it as well.
-- Loading twice does nothing.

local M = {}

local function commands()
  return require('gemini_lsp.commands')
end

local function define_commands()
  local create = vim.api.nvim_create_user_command
  create('Gemini', function(args)
    commands().gemini(args)
  end, {
    nargs = '*',
    range = true,
    desc = 'Gemini: generate at the cursor, or rewrite the range',
  })
  create('GeminiCancel', function(args)
    commands().cancel(args)
  end, { nargs = 0, bang = true, desc = 'Gemini: cancel generations in this buffer (! for all)' })
  create('GeminiRevert', function(args)
    commands().revert(args)
  end, { nargs = '?', desc = 'Gemini: revert the last generation (or the one given)' })
  create('GeminiRefine', function(args)
    commands().refine(args)
  end, { nargs = '*', desc = 'Gemini: refine the last generation with a new instruction' })
  create('GeminiStatus', function()
    commands().status()
  end, { nargs = 0, desc = 'Gemini: show the client and the generations in flight' })
  create('GeminiInline', function(args)
    require('gemini_lsp.inline').command(args.args)
  end, {
    nargs = '?',
    complete = function()
      return { 'on', 'off' }
    end,
    desc = 'Gemini: inline suggestions on or off (no argument: toggle)',
  })
end

local function define_autocommands()
  vim.api.nvim_create_autocmd('LspProgress', {
    group = vim.api.nvim_create_augroup('gemini_lsp.progress', { clear = true }),
    desc = 'gemini_lsp: show Gemini progress',
    callback = function(ev)
      require('gemini_lsp.progress').on_progress(ev)
    end,
  })
  vim.api.nvim_create_autocmd('LspDetach', {
    group = vim.api.nvim_create_augroup('gemini_lsp.detach', { clear = true }),
    desc = 'gemini_lsp: forget the generations of a client that left',
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == 'gemini_lsp' then
        require('gemini_lsp.generations').drop(client.id, ev.buf)
        if vim.tbl_count(client.attached_buffers) <= 1 then
          require('gemini_lsp.progress').drop(client.id)
        end
      end
    end,
  })
end

--- The plugin's own folder (the one holding lua/, plugin/, doc/).
---@return string
function M.root()
  local source = debug.getinfo(1, 'S').source:sub(2)
  return vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.normalize(source))))
end

---@param path string
---@return integer? modification time in seconds
local function mtime(path)
  local stat = (vim.uv or vim.loop).fs_stat(path)
  return stat and stat.mtime.sec or nil
end

--- `:help gemini_lsp` needs doc/tags, which is not in the repository: plugin managers
--- build it for a plugin at the root of its repository, not for this subfolder. So it is
--- built here when missing or older than the help file. A read-only install gets its tags
--- in a copy under stdpath('cache'), added to 'runtimepath'.
function M.help_tags()
  local doc = vim.fs.joinpath(M.root(), 'doc')
  local help = vim.fs.joinpath(doc, 'gemini_lsp.txt')
  local written = mtime(help)
  if not written then
    return
  end
  local tags = mtime(vim.fs.joinpath(doc, 'tags'))
  if tags and tags >= written then
    return
  end
  if pcall(vim.cmd.helptags, vim.fn.fnameescape(doc)) and mtime(vim.fs.joinpath(doc, 'tags')) then
    return
  end
  local cache = vim.fs.joinpath(vim.fn.stdpath('cache'), 'gemini_lsp')
  local copy = vim.fs.joinpath(cache, 'doc')
  vim.fn.mkdir(copy, 'p')
  vim.fn.writefile(vim.fn.readfile(help), vim.fs.joinpath(copy, 'gemini_lsp.txt'))
  if pcall(vim.cmd.helptags, vim.fn.fnameescape(copy)) then
    vim.opt.runtimepath:append(cache)
  end
end

function M.load()
  if vim.g.loaded_gemini_lsp then
    return
  end
  vim.g.loaded_gemini_lsp = true
  if vim.fn.has('nvim-0.10') == 0 then
    vim.notify('gemini_lsp needs Neovim 0.10 or newer', vim.log.levels.ERROR)
    return
  end
  define_commands()
  define_autocommands()
  M.help_tags()
end

return M
