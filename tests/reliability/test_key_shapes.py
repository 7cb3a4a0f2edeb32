"""No shape of an API key ever appears in anything the server or the headless client prints:
arbitrary keys (whitespace around them, control characters, backslashes, quotes, percent
signs, any Unicode) go through every path a key takes — settings pushed and pulled, a
request with the key, a key that is refused, errors that quote what they were given — and the
protocol messages, stderr and the DEBUG log are searched for it.

Each key carries a marker of twelve letters and digits: any escaping keeps those as they
are, so a key printed in any shape at all would show it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from gemini_lsp.emulator import EmulatorThread
from gemini_lsp.gemini.secrets import Secrets
from tests.cli.conftest import clean_env
from tests.reliability.harness import Background, Session

EXAMPLES = 500
# Characters that escaping changes, and whitespace the key may come wrapped in.
AWKWARD = list(" \t\n\r\x00\x01\x07\x1b\x7f\x85\xa0\u2028\\\"'%+/&=?#é€😀")
MARKER_CHARS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

pieces = st.text(st.sampled_from(AWKWARD) | st.characters(exclude_categories=["Cs"]), max_size=6)


@st.composite
def keys(draw: st.DrawFn) -> tuple[str, str]:
    """(key, marker): arbitrary text around a marker."""
    marker = "Mk" + draw(st.text(st.sampled_from(MARKER_CHARS), min_size=10, max_size=10))
    return draw(pieces) + marker + draw(pieces), marker


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Background, Session]]:
    background = Background(tmp_path_factory.mktemp("keys"), log_level="DEBUG", retries=0)
    s = background.run(background.start())
    yield background, s
    background.close()


class Output:
    """What the server emitted since the last look: messages, stderr, the log file."""

    def __init__(self, s: Session) -> None:
        self.s = s
        self.messages = 0
        self.stderr = 0
        self.log = 0

    def new(self) -> str:
        s = self.s
        messages, self.messages = s.received[self.messages :], len(s.received)
        stderr, self.stderr = s.stderr[self.stderr :], len(s.stderr)
        with open(s.log_file, "rb") as log_file:
            log_file.seek(self.log)
            log = log_file.read()
        self.log += len(log)
        return "\n".join([*messages, stderr.decode(errors="replace"), log.decode(errors="replace")])


async def _every_path(s: Session, doc_uri: str, key: str) -> list[str]:
    """The key through each path; the kinds of answer, for the record."""
    answers = []

    async def run(argument: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(s.execute("gemini.generate", argument), 20)
            answers.append("result")
        except JsonRpcException as error:
            answers.append(str(error.code))

    # Pushed: the key, and an unknown setting named by it (a message that quotes it).
    s.lsp.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"geminiLsp": {"apiKey": key, key: 1}})
    )
    # A request with it: Gemini refuses a key it does not know (or the key is refused first).
    base = {"textDocument": {"uri": doc_uri}, "position": {"line": 0, "character": 0}}
    await run({**base, "prompt": "write it"})
    # Arguments that quote it back in their errors.
    await run({**base, "prompt": "write it", "model": key})
    await run({**base, "prompt": "write it", "attachments": ["file:///" + key]})
    await run({**base, "prompt": "write it", "attachments": [key]})
    # Pulled with workspace/configuration.
    s.lsp.set_configuration({"apiKey": key}, section="geminiLsp")
    s.lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await asyncio.wait_for(s.stats(), 20)  # after the pull
    return answers


def test_no_shape_of_any_key_is_ever_printed(served: tuple[Background, Session]) -> None:
    background, s = served
    doc = background.run(_open(s))
    output = Output(s)
    output.new()
    seen: dict[str, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(keys())
    def never_printed(case: tuple[str, str]) -> None:
        key, marker = case
        for answer in background.run(_every_path(s, doc, key)):
            seen[answer] = seen.get(answer, 0) + 1
        printed = output.new()
        assert marker not in printed, f"the key {key!r} was printed"

    never_printed()
    print(f"key shapes: {EXAMPLES} keys, answers {seen}")
    assert len(s.received) > EXAMPLES * 5  # the paths were taken
    assert "Sending data" in s.log_file.read_text()  # at DEBUG
    # Both kinds of key went through: usable ones (Gemini refused them) and refused ones.
    problems = [m.message for m in s.lsp.messages]
    assert any("Gemini API key is not valid" in m for m in problems)
    assert any("geminiLsp.apiKey" in m and "using the default" in m for m in problems)


async def _open(s: Session) -> str:
    return s.open("keys.py", "\n").uri


# -- the masking function itself, against printers written independently of it -------------------


def _printings(key: str) -> list[str]:
    core = key.strip()
    shapes = [
        repr(core),
        repr({"apiKey": [core]}),
        ascii(core),
        str(core.encode("utf-8", "surrogatepass")),
        core.encode("unicode_escape").decode(),
        json.dumps(core),
        json.dumps({"k": core}, ensure_ascii=False),
        json.dumps(repr(core)),
        repr(json.dumps(core)),
        json.dumps(json.dumps(core)),
        urllib.parse.quote(core, safe=""),
        urllib.parse.urlencode({"key": core}),
        f"{core!r:>10}",
    ]
    return shapes


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(st.text(st.sampled_from(AWKWARD) | st.characters(exclude_categories=["Cs"]), max_size=30))
def test_mask_removes_the_key_from_any_printing(key: str) -> None:
    core = key.strip()
    if len(core) < 8:
        return  # not a key: never masked (it would mask ordinary words)
    secrets = Secrets([key])
    for printed in _printings(key):
        masked = secrets.mask(f"before {printed} after")
        # Whatever was left of the printing, the key's own characters are not all there.
        for form in {core, repr(core)[1:-1], json.dumps(core)[1:-1]}:
            if len(form) >= 8:
                assert form not in masked, (printed, masked)


# -- the headless client -----------------------------------------------------------------------

CLI_KEYS = [
    "  AIzaCliSpaces-5c4b3a2f1e0d9c8b7a6f  \n",
    "AIzaCliControl-1a2b3c\x07d4e5f6a7b8c9d0",
    "AIzaCli\\Backslash-0f1e2d3c4b5a69788796",
    "AIzaCli'Quote\"-Percent%41-77665544332211",
]


@pytest.mark.parametrize("key", CLI_KEYS)
def test_the_headless_client_never_prints_the_key(key: str, tmp_path: Path) -> None:
    source = tmp_path / "demo.py"
    source.write_text("x = 1\n", encoding="utf-8")
    with EmulatorThread(api_key="another-key-entirely", first_token_ms=0) as thread:
        env = clean_env(GEMINI_API_KEY=key, GOOGLE_GEMINI_BASE_URL=thread.emulator.base_url)
        command = [sys.executable, "-m", "gemini_lsp", "--log-level", "DEBUG", "generate"]
        run = subprocess.run(
            [*command, str(source), "--line", "1", "--prompt", "write it"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode != 0  # refused: by Gemini, or before it was sent
    printed = run.stdout + run.stderr
    assert "Traceback" not in printed
    for piece in key.strip().replace("\x07", " ").split():
        for part in piece.replace("\\", " ").replace("'", " ").replace('"', " ").split():
            if len(part) >= 8:
                assert part not in printed, f"{part!r} printed"
