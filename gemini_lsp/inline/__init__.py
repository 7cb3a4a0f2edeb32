"""Inline completions (LSP 3.18 `textDocument/inlineCompletion`): suggestions as ghost text.

Pure parts, no I/O: `context` (the text around the cursor and the fill-in-the-middle
prompt), `fit` (making an answer fit its place), `cache` (answers reused while the user types
them), `pace` (how long to wait after a keystroke). `service` puts them together with the
model calls, one in flight per document.
"""
