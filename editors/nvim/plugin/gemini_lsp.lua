-- gemini-lsp: Gemini writes code into your buffer through a language server.
-- This file only defines the user commands and two autocommands; the work happens in
-- lua/gemini_lsp/.

if vim.g.loaded_gemini_lsp then
  return
end
vim.g.loaded_gemini_lsp = true

if vim.fn.has('nvim-0.10') == 0 then
  vim.notify('gemini_lsp needs Neovim 0.10 or newer', vim.log.levels.ERROR)
  return
end

local function commands()
  return require('gemini_lsp.commands')
end

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
