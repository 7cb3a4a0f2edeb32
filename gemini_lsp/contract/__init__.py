"""The contract with the editor plugins, defined once: the settings and the commands.

`settings` and `commands` are the source; the server's `Settings` and argument parsing follow
them, `scripts/contract.py` writes the plugins' copies from them (VS Code's manifest and
protocol module, Neovim's contract table, the README's settings table), and
`tests/test_contract.py` fails when a copy is out of date. Nothing here imports pygls or
google-genai: the generator reads it without starting anything.
"""
