"""The emulator's command line: the base URL line, scenarios, signals."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
from pathlib import Path

from gemini_lsp.emulator import cli

from .conftest import MODEL, ClientFactory


def test_add_arguments_defaults() -> None:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.host, args.port, args.scenario, args.api_key) == ("127.0.0.1", 0, None, None)
    assert (args.first_token_ms, args.chars_per_second) == (None, None)
    args = parser.parse_args(["--port", "8123", "--first-token-ms", "0", "--api-key", "k"])
    assert (args.port, args.first_token_ms, args.api_key) == (8123, 0.0, "k")


async def start(*arguments: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gemini_lsp.emulator",
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_the_cli_prints_the_base_url_serves_and_stops_on_sigterm(
    tmp_path: Path, make_client: ClientFactory
) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"replies": [{"chunks": ["from ", "the file"]}]}))
    process = await start(
        "--scenario", str(scenario), "--api-key", "cli-key", "--quiet", "--chars-per-second", "0"
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        match = re.fullmatch(r"GOOGLE_GEMINI_BASE_URL=(http://127\.0\.0\.1:(\d+))\n", line)
        assert match, line
        client = make_client(match[1], api_key="cli-key")
        response = await client.aio.models.generate_content(model=MODEL, contents="hi")
        assert response.text == "from the file"
        # Without a script left, the default generator answers, saying what it is.
        response = await client.aio.models.generate_content(model=MODEL, contents="hi")
        assert "gemini-lsp emulator" in (response.text or "")
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 10)
    assert code == 0
    assert process.stdout is not None
    assert await process.stdout.read() == b""  # the URL line is the only stdout output


async def test_a_bad_scenario_exits_with_2_and_says_why(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.json"
    scenario.write_text('{"replies": [{"chunk": []}]}')
    process = await start("--scenario", str(scenario))
    stdout, stderr = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 2
    assert stdout == b""
    assert b"unknown reply keys: chunk" in stderr
