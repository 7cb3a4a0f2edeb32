-- gemini-lsp: Gemini writes code into your buffer through a language server.
-- This file only loads the user commands, two autocommands and the help tags
-- (lua/gemini_lsp/plugin.lua); the work happens in lua/gemini_lsp/.

require('gemini_lsp.plugin').load()
