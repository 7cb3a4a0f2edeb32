-- The Ex commands (:Gemini, :GeminiCancel, …); plugin/gemini_lsp.lua defines them.

local M = {}

local function api()
  return require('gemini_lsp')
end

--- The characterwise selection behind a `:'<,'>` range, if the range came from one.
---@param args vim.api.keyset.create_user_command.command_args
---@return { [1]: integer, [2]: integer }?
local function charwise_selection(args)
  if args.range ~= 2 or vim.fn.visualmode() ~= 'v' then
    return nil
  end
  local from = vim.api.nvim_buf_get_mark(0, '<')
  local to = vim.api.nvim_buf_get_mark(0, '>')
  if from[1] ~= args.line1 or to[1] ~= args.line2 then
    return nil -- a range typed by hand, not the last selection
  end
  return { from[2], to[2] }
end

--- :Gemini {prompt} at the cursor; :{range}Gemini {prompt} rewrites the range.
---@param args vim.api.keyset.create_user_command.command_args
function M.gemini(args)
  if args.range > 0 then
    api().rewrite(args.args, {
      line1 = args.line1,
      line2 = args.line2,
      charwise = charwise_selection(args),
    })
  else
    api().generate(args.args)
  end
end

---@param args vim.api.keyset.create_user_command.command_args
function M.cancel(args)
  api().cancel(args.bang)
end

---@param args vim.api.keyset.create_user_command.command_args
function M.revert(args)
  api().revert(args.args ~= '' and args.args or nil)
end

---@param args vim.api.keyset.create_user_command.command_args
function M.refine(args)
  api().refine(args.args)
end

function M.status()
  local status = api().status()
  local lines = {}
  if status.attached then
    lines[#lines + 1] = ('gemini-lsp: client %d attached'):format(status.client_id)
  else
    lines[#lines + 1] = 'gemini-lsp: not attached to this buffer'
  end
  lines[#lines + 1] = ('generations streaming here: %d'):format(status.generating)
  lines[#lines + 1] = ('last generation here: %s'):format(status.last_id or 'none')
  if status.progress ~= '' then
    lines[#lines + 1] = status.progress
  end
  vim.api.nvim_echo({ { table.concat(lines, '\n') } }, true, {})
end

return M
