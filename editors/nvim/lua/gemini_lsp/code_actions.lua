-- Client-side handlers for the server's gemini.* commands, as code actions run them
-- (vim.lsp.buf.code_action -> client:exec_cmd -> these). An action whose argument has a
-- `promptRequest` but no `prompt` wants an instruction from the user: ask for it with
-- vim.ui.input, then send the command. Generating commands are tracked like :Gemini.

local contract = require('gemini_lsp.contract')

local M = {}

---@param command lsp.Command
---@param ctx { bufnr: integer, client_id: integer }
local function run(command, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client then
    return
  end
  local generations = require('gemini_lsp.generations')
  local argument = vim.deepcopy((command.arguments or {})[1] or vim.empty_dict())
  local bufnr = ctx.bufnr or vim.api.nvim_get_current_buf()

  local function send()
    if contract.generating[command.command] then
      generations.run(client, bufnr, command.command, argument)
    else
      require('gemini_lsp.client').execute(client, command.command, argument, bufnr, function(err)
        if err then
          require('gemini_lsp.messages').error(err.message or (command.command .. ' failed'))
        end
      end)
    end
  end

  if argument.prompt == nil and type(argument.promptRequest) == 'string' then
    vim.ui.input({ prompt = argument.promptRequest .. ' ' }, function(input)
      if input == nil or vim.trim(input) == '' then
        return
      end
      argument.prompt = input
      argument.promptRequest = nil -- the server checks arguments strictly
      send()
    end)
  else
    send()
  end
end

--- Handlers for the client's `commands` table, one per server command.
---@return table<string, fun(command: lsp.Command, ctx: table)>
function M.handlers()
  local handlers = {}
  for _, name in ipairs(contract.command_ids) do
    handlers[name] = run
  end
  return handlers
end

return M
