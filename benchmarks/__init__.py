"""The performance suite (`make bench`, `python -m benchmarks [--quick] [--only GROUP…]`).

Every figure is measured side by side, in one run, against a baseline on the same stream
from the Gemini emulator (`emulator_proc`, a process of its own): the raw google-genai SDK
consuming it as in the SDK's streaming example (`baseline`). The server is driven by a lean
editor-like client (`client`) with the recorded capabilities of VS Code and Neovim
(`styles`). Each module measures one group of figures; `suite` runs them and `report`
prints the table and writes the JSON (bench-results/latest.json by default).
"""
