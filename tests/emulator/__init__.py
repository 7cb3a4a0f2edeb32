"""Tests of gemini_lsp.emulator (a package, so test modules can share conftest helpers)."""
