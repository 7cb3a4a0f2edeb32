-- Test init for the real-Neovim tests: loads the plugin from the working tree, sets it up
-- against the server under test, and records what a person would see (notifications,
-- progress, buffer changes, generation results) in the global table T, which the Python
-- side reads over RPC.

local env = vim.env
vim.opt.runtimepath:prepend(env.GEMINI_NVIM_PLUGIN)

if env.GEMINI_NVIM_AS_010 == '1' then
  -- Take the plugin's Neovim 0.10 path (vim.lsp.start, client.request) on this 0.11.
  local has = vim.fn.has
  vim.fn.has = function(feature)
    return feature == 'nvim-0.11' and 0 or has(feature)
  end
end
vim.opt.swapfile = false
vim.opt.shortmess:append('I')
vim.opt.more = false

local uv = vim.uv

_G.T = {
  notes = {}, ---@type { msg: string, level: integer }[]
  progress = {}, ---@type { kind: string, title: string?, message: string?, at: number }[]
  started = {}, ---@type table[]
  done = {}, ---@type table[]
  changes = {}, ---@type { tick: integer, at: number }[]
  typed = {}, ---@type { kind: string, n: integer }[]
  statuslines = {}, ---@type string[]
  echoed = {}, ---@type string[] what the message area showed
}

function T.now()
  return uv.hrtime() / 1e6
end

-- What the message area shows, as a UI sees it.
local ns = vim.api.nvim_create_namespace('gemini_lsp_test')
vim.ui_attach(ns, { ext_messages = true }, function(event, ...)
  if event == 'msg_show' then
    local _, content = ...
    local text = {}
    for _, chunk in ipairs(content) do
      text[#text + 1] = chunk[2]
    end
    table.insert(T.echoed, table.concat(text))
  end
end)

local notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(T.notes, { msg = msg, level = level or vim.log.levels.INFO })
  return notify(msg, level, opts)
end

vim.api.nvim_create_autocmd('LspProgress', {
  callback = function(ev)
    local value = ev.data.params.value
    table.insert(T.progress, {
      kind = value.kind,
      title = value.title,
      message = value.message,
      at = T.now(),
    })
    table.insert(T.statuslines, require('gemini_lsp').statusline())
  end,
})

vim.api.nvim_create_autocmd('User', {
  pattern = 'GeminiLspStart',
  callback = function(ev)
    table.insert(T.started, { command = ev.data.command, at = T.now() })
  end,
})

vim.api.nvim_create_autocmd('User', {
  pattern = 'GeminiLspDone',
  callback = function(ev)
    local d = ev.data
    table.insert(T.done, {
      command = d.command,
      err = d.err and { code = d.err.code, message = d.err.message } or vim.NIL,
      result = d.result or vim.NIL,
      at = T.now(),
    })
  end,
})

-- Every change of an attached buffer, with its time: "nothing arrives afterwards".
vim.api.nvim_create_autocmd('LspAttach', {
  callback = function(ev)
    vim.api.nvim_buf_attach(ev.buf, false, {
      on_lines = function(_, _, tick)
        table.insert(T.changes, { tick = tick, at = T.now() })
      end,
    })
  end,
})

function T.client()
  return require('gemini_lsp.client').get(0)
end

function T.attached()
  local client = T.client()
  return client ~= nil and client.initialized == true
end

function T.lines()
  return vim.api.nvim_buf_get_lines(0, 0, -1, false)
end

--- Number of buffer changes after time `at` (ms, T.now() clock).
function T.changes_after(at)
  local n = 0
  for _, change in ipairs(T.changes) do
    if change.at > at then
      n = n + 1
    end
  end
  return n
end

---@param lines string[]
---@param prefix string
---@return integer? 0-based row of the first line starting with prefix
local function find(lines, prefix)
  for i, line in ipairs(lines) do
    if vim.startswith(line, prefix) then
      return i - 1
    end
  end
end

local KINDS =
  { 'above_char', 'above_line', 'inside_char', 'inside_line', 'below_char', 'below_line' }

--- A person typing while Gemini writes: every `every_ms`, one change above, inside or
--- below the generated region, in rotation. Each change is logged in T.typed so the
--- test can rebuild the expected buffer. Stops when a generation is done.
---@param spec { every_ms: integer, above: string, below: string, first_generated: string,
---  third_generated: string }
function T.start_typing(spec)
  local bufnr = vim.api.nvim_get_current_buf()
  local n = 0
  local timer = assert(uv.new_timer())
  local function step()
    if #T.done > 0 then
      timer:stop()
      timer:close()
      return
    end
    n = n + 1
    local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
    local kind = KINDS[(n - 1) % #KINDS + 1]
    if kind == 'above_char' then
      local row = assert(find(lines, spec.above))
      vim.api.nvim_buf_set_text(bufnr, row, #lines[row + 1], row, #lines[row + 1], { 'b' })
    elseif kind == 'above_line' then
      vim.api.nvim_buf_set_lines(bufnr, 0, 0, false, { '# above ' .. n })
    elseif kind == 'inside_char' or kind == 'inside_line' then
      -- Only once the first generated line is complete and the stream has moved on.
      local row = find(lines, spec.first_generated)
      if not row or not find(lines, spec.third_generated) then
        return
      end
      if kind == 'inside_char' then
        vim.api.nvim_buf_set_text(bufnr, row, #lines[row + 1], row, #lines[row + 1], { 'i' })
      else
        vim.api.nvim_buf_set_lines(bufnr, row + 1, row + 1, false, { '# inside ' .. n })
      end
    elseif kind == 'below_char' then
      local row = assert(find(lines, spec.below))
      vim.api.nvim_buf_set_text(bufnr, row, #lines[row + 1], row, #lines[row + 1], { 'a' })
    else
      vim.api.nvim_buf_set_lines(bufnr, -1, -1, false, { '# below ' .. n })
    end
    table.insert(T.typed, { kind = kind, n = n })
  end
  timer:start(spec.every_ms, spec.every_ms, vim.schedule_wrap(step))
end

--- Stop the clients and wait for their servers to exit (no broken pipe in their logs).
function T.stop()
  local clients = env.GEMINI_NVIM_PLAIN == '1' and vim.lsp.get_clients()
    or require('gemini_lsp.client').all()
  for _, client in ipairs(clients) do
    client:stop()
  end
  -- is_stopped() turns true at once; the client is gone only when its server has exited.
  vim.wait(3000, function()
    for _, client in ipairs(clients) do
      if vim.lsp.get_client_by_id(client.id) then
        return false
      end
    end
    return true
  end, 20)
end

local setup = vim.json.decode(env.GEMINI_NVIM_SETUP or '{}')
if env.GEMINI_NVIM_PLAIN ~= '1' then
  require('gemini_lsp').setup(setup)
  return
end

-- Plain Neovim, as someone without the plugin has it: the server configured with
-- vim.lsp.config and Neovim's default flags (150 ms debounce, no versioned edits), and
-- commands run as requests.
vim.lsp.config('gemini_plain', {
  cmd = setup.cmd,
  filetypes = { 'python' },
  init_options = { geminiLsp = setup.settings },
})
vim.lsp.enable('gemini_plain')

function T.client()
  return vim.lsp.get_clients({ name = 'gemini_plain', bufnr = 0 })[1]
end

--- gemini.generate at a 0-based position, answered into T.done.
function T.plain_generate(line, character, prompt)
  local bufnr = vim.api.nvim_get_current_buf()
  local argument = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = line, character = character },
    prompt = prompt,
  }
  local params = { command = 'gemini.generate', arguments = { argument } }
  T.client():request('workspace/executeCommand', params, function(err, result)
    table.insert(T.done, {
      command = 'gemini.generate',
      err = err and { code = err.code, message = err.message } or vim.NIL,
      result = result or vim.NIL,
      at = T.now(),
    })
  end, bufnr)
end
