-- For Neovim 0.11+ users who skip setup(): `vim.lsp.enable('gemini_lsp')` picks this up.
-- setup() passes the same table, built from its options, to vim.lsp.config().
return require('gemini_lsp.config').lsp_config()
