"""Test parts shared by the tests and the benchmarks: editor styles, an editor model that
applies the server's edits and syncs them back as a given editor does, a typist, the LSP
framing for raw clients, and launchers for the Gemini emulator.

Not shipped: the wheel packages `gemini_lsp*` only. The document model here is written
apart from the server's engine (plain strings, its own position encoding) so that the two
cannot share a bug; only the emulator is imported from `gemini_lsp`.
"""
