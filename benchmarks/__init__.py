"""The performance suite (`make bench`, `python -m benchmarks [--repeats N] [--quick|--full]
[--only GROUP…]`); benchmarks/README.md says what each figure measures and why.

Every figure is measured side by side, in one run, against a baseline on the same stream
from the Gemini emulator (in a process of its own): the raw google-genai SDK consuming it
as in the SDK's streaming example (`baseline`), or pygls alone. The server is driven by a
lean editor-like client (`client`) with the recorded capabilities of VS Code and Neovim.
Each module measures one group of figures; `suite` runs each group `--repeats` times and
`report` folds the runs into a median and a worst, prints the table and writes the JSON
(bench-results/latest.json by default).
"""
