-- :checkhealth gemini_lsp

local M = {}

local health = vim.health

--- How to install the server from where this plugin is: `make install` in the checkout it
--- belongs to, else from the Python package index.
---@return string[]
function M.install_advice()
  local checkout = vim.fs.dirname(vim.fs.dirname(require('gemini_lsp.plugin').root()))
  local function exists(name)
    return (vim.uv or vim.loop).fs_stat(vim.fs.joinpath(checkout, name)) ~= nil
  end
  local advice = {}
  if exists('Makefile') and exists('pyproject.toml') and exists('gemini_lsp') then
    advice[1] = ('install it from this checkout: `cd %s && make install`'):format(checkout)
  else
    advice[1] = 'install it: `pipx install gemini-lsp` (or `pip install --user gemini-lsp`)'
  end
  advice[2] = 'or set `cmd` in require("gemini_lsp").setup{} to where it is'
  return advice
end

---@param cmd string[]
local function check_server(cmd)
  local exe = cmd[1]
  if not exe or vim.fn.executable(exe) == 0 then
    health.error(('server not found: `%s`'):format(tostring(exe)), M.install_advice())
    return
  end
  health.ok(('server: `%s`'):format(vim.fn.exepath(exe)))
  local ok, proc = pcall(vim.system, { exe, '--version' }, { text = true })
  local result = ok and proc:wait(10000)
  if result and result.code == 0 then
    local version = result.stdout ~= '' and result.stdout or result.stderr
    health.ok('server version: ' .. vim.trim(version))
  else
    local why = vim.trim(result and result.stderr or '')
    health.error(('`%s --version` failed: the server does not start'):format(exe), { why })
  end
end

---@param settings table
local function check_credentials(settings)
  if settings.vertexai or vim.env.GOOGLE_GENAI_USE_VERTEXAI then
    health.info('Vertex AI: project and location come from the settings or GOOGLE_CLOUD_*')
    return
  end
  if settings.apiKey then
    health.ok('API key: set in settings (geminiLsp.apiKey)')
  elseif vim.env.GOOGLE_API_KEY and vim.env.GOOGLE_API_KEY ~= '' then
    health.ok('API key: GOOGLE_API_KEY is set')
  elseif vim.env.GEMINI_API_KEY and vim.env.GEMINI_API_KEY ~= '' then
    health.ok('API key: GEMINI_API_KEY is set')
  else
    health.warn(
      'no API key: generations will fail',
      { 'export GEMINI_API_KEY=…', 'or settings = { apiKey = … } in setup()' }
    )
  end
  local base_url = settings.baseUrl or vim.env.GOOGLE_GEMINI_BASE_URL
  if base_url and base_url ~= '' then
    health.info('Gemini API base URL: ' .. base_url)
  end
end

function M.check()
  local config = require('gemini_lsp.config')
  local options = config.options

  health.start('gemini_lsp')
  local v = vim.version()
  local version = ('%d.%d.%d'):format(v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.10') == 1 then
    health.ok('Neovim ' .. version)
  else
    health.error('Neovim ' .. version .. ': 0.10 or newer is needed')
  end
  check_server(options.cmd or {})
  local settings = options.settings or {}
  local defaults = require('gemini_lsp.contract').settings
  health.info(('model: %s'):format(settings.model or defaults.model))
  check_credentials(settings)

  local clients = require('gemini_lsp.client').all()
  if #clients == 0 then
    health.info('no gemini-lsp client running (it starts when a file is opened)')
  end
  for _, client in ipairs(clients) do
    local info = client.server_info or {}
    health.ok(('client %d running: %s %s, position encoding %s'):format(
      client.id,
      info.name or config.name,
      info.version or '',
      client.offset_encoding
    ))
  end
end

return M
