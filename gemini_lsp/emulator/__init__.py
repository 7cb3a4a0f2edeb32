"""A protocol-faithful Gemini API server for tests, demos and offline use.

Example::

    async with Emulator(api_key="k", first_token_ms=0, chars_per_second=0) as emu:
        emu.script(Reply(["def f():\\n", "    return 1\\n"]))
        client = genai.Client(api_key="k", http_options=HttpOptions(base_url=emu.base_url))
        ...
        assert emu.requests[0].body["contents"]

The package needs only the standard library and attrs, on purpose: importing it must not
change which HTTP stack google-genai picks (it switches to aiohttp whenever that imports).
"""

from gemini_lsp.emulator.fim import FimContext, FimRule, parse_fim
from gemini_lsp.emulator.record import RecordedRequest
from gemini_lsp.emulator.scenario import (
    Chunk,
    ErrorSpec,
    Fault,
    Reply,
    Scenario,
    Usage,
    load_scenario,
)
from gemini_lsp.emulator.server import Emulator
from gemini_lsp.emulator.thread import EmulatorThread

__all__ = [
    "Chunk",
    "Emulator",
    "EmulatorThread",
    "ErrorSpec",
    "Fault",
    "FimContext",
    "FimRule",
    "RecordedRequest",
    "Reply",
    "Scenario",
    "Usage",
    "load_scenario",
    "parse_fim",
]
