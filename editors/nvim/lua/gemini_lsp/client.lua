-- Starting the client and talking to it, on Neovim 0.11+ (vim.lsp.config / vim.lsp.enable)
-- and 0.10 (vim.lsp.start from a FileType autocmd).

local config = require('gemini_lsp.config')

local M = {}

local has_011 = vim.fn.has('nvim-0.11') == 1

---@param bufnr? integer
---@return vim.lsp.Client?
function M.get(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  return vim.lsp.get_clients({ bufnr = bufnr, name = config.name })[1]
end

---@return vim.lsp.Client[]
function M.all()
  return vim.lsp.get_clients({ name = config.name })
end

--- client:request on 0.11, client.request on 0.10.
---@param client vim.lsp.Client
---@param method string
---@param params table
---@param handler fun(err: lsp.ResponseError?, result: any, ctx: lsp.HandlerContext)
---@param bufnr integer
---@return boolean ok, integer? request_id
function M.request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  ---@diagnostic disable-next-line: param-type-mismatch
  return client.request(method, params, handler, bufnr)
end

--- Send workspace/executeCommand directly (never through client:exec_cmd, which would
--- come back to our own command handlers).
---@param client vim.lsp.Client
---@param command string
---@param argument table
---@param bufnr integer
---@param handler fun(err: lsp.ResponseError?, result: any)
---@return boolean ok, integer? request_id
function M.execute(client, command, argument, bufnr, handler)
  return M.request(client, 'workspace/executeCommand', {
    command = command,
    arguments = { argument },
  }, function(err, result)
    handler(err, result)
  end, bufnr)
end

---@param bufnr integer
---@param lsp_config vim.lsp.Config
local function start_010(bufnr, lsp_config)
  if vim.bo[bufnr].buftype ~= '' or vim.api.nvim_buf_get_name(bufnr) == '' then
    return
  end
  local cfg = vim.deepcopy(lsp_config)
  local fname = vim.api.nvim_buf_get_name(bufnr)
  cfg.root_dir = vim.fs.root(bufnr, cfg.root_markers or {}) or vim.fs.dirname(fname)
  cfg.root_markers, cfg.filetypes = nil, nil
  vim.lsp.start(cfg, { bufnr = bufnr })
end

--- Register the client so that it starts in matching buffers.
---@param lsp_config vim.lsp.Config
function M.enable(lsp_config)
  if has_011 then
    vim.lsp.config(config.name, lsp_config)
    vim.lsp.enable(config.name)
    return
  end
  local group = vim.api.nvim_create_augroup('gemini_lsp.start', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = lsp_config.filetypes or '*',
    desc = 'gemini_lsp: start the language server',
    callback = function(ev)
      start_010(ev.buf, lsp_config)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    local ft = vim.bo[bufnr].filetype
    local wanted = ft ~= ''
      and (lsp_config.filetypes == nil or vim.tbl_contains(lsp_config.filetypes, ft))
    if vim.api.nvim_buf_is_loaded(bufnr) and wanted then
      start_010(bufnr, lsp_config)
    end
  end
end

return M
