-- LSP positions and ranges of a buffer: byte columns (Neovim) to the client's offset
-- encoding (UTF-16 by default), and the ranges of lines and characterwise selections.

local M = {}

---@param bufnr integer
---@param row integer 0-based
---@param col integer byte column
---@param encoding string
---@return lsp.Position
function M.at(bufnr, row, col, encoding)
  if col == 0 then
    return { line = row, character = 0 }
  end
  return { line = row, character = vim.lsp.util.character_offset(bufnr, row, col, encoding) }
end

--- The position of the cursor for a generation. On a blank line it is the end of the
--- line, so that the text takes the line's indentation.
---@param bufnr integer
---@param encoding string
---@return lsp.Position
function M.cursor(bufnr, encoding)
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local line = vim.api.nvim_buf_get_lines(bufnr, row - 1, row, false)[1] or ''
  if line:match('^%s*$') then
    col = #line
  end
  return {
    line = row - 1,
    character = vim.lsp.util.character_offset(bufnr, row - 1, col, encoding),
  }
end

--- The position just after line `row` (0-based): the start of the next line, or the end
--- of the last line when the buffer has no final newline.
---@param bufnr integer
---@param row integer
---@param encoding string
---@return lsp.Position
local function after_line(bufnr, row, encoding)
  local last = vim.api.nvim_buf_line_count(bufnr) - 1
  if row < last or vim.bo[bufnr].eol then
    return { line = row + 1, character = 0 }
  end
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  return M.at(bufnr, row, #line, encoding)
end

--- The number of bytes of the UTF-8 character whose lead byte is `lead`.
---@param lead integer
---@return integer
local function char_size(lead)
  return lead >= 0xF0 and 4 or lead >= 0xE0 and 3 or lead >= 0xC0 and 2 or 1
end

---@class gemini_lsp.Lines
---@field line1 integer 1-based first line
---@field line2 integer 1-based last line
---@field charwise? { [1]: integer, [2]: integer } byte columns of the first and last
---   character (inclusive), for a characterwise selection

--- An LSP range for lines (or a characterwise selection) of a buffer.
---@param bufnr integer
---@param lines gemini_lsp.Lines
---@param encoding string
---@return lsp.Range
function M.range(bufnr, lines, encoding)
  local r1, r2 = lines.line1 - 1, lines.line2 - 1
  if not lines.charwise then
    return { start = { line = r1, character = 0 }, ['end'] = after_line(bufnr, r2, encoding) }
  end
  local c1, c2 = lines.charwise[1], lines.charwise[2]
  local last = vim.api.nvim_buf_get_lines(bufnr, r2, r2 + 1, false)[1] or ''
  local stop
  if c2 >= #last then
    stop = after_line(bufnr, r2, encoding) -- the selection takes the line break
  else
    -- The end is inclusive: step over the whole last character.
    stop = M.at(bufnr, r2, c2 + char_size(last:byte(c2 + 1)), encoding)
  end
  return { start = M.at(bufnr, r1, c1, encoding), ['end'] = stop }
end

return M
