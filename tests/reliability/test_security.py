"""The API key never leaves the server (logs at DEBUG, stderr, messages, results, errors), and
TCP listens on loopback unless told otherwise."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import urllib.parse
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from gemini_lsp.emulator import Emulator, ErrorSpec, Reply
from testkit.environment import server_env
from testkit.framing import encode as frame
from tests.reliability.harness import Session, generate_args, session

KEY = "AIzaSyLeakCheck-7c1f9e2b4d6a8c0e1f3a"  # the one that works
ENV_KEY = "AIzaSyEnvOnly-5b7d9f1a3c5e7a9c1e3b"  # in the environment, overridden by the setting
WRONG_KEY = "AIzaSyWrongKey-0a2c4e6a8c0e2a4c6e8a"


async def test_the_key_never_appears_in_anything_the_server_emits(tmp_path: Path) -> None:
    async with Emulator(api_key=KEY, first_token_ms=0, chars_per_second=0) as emulator:
        emulator.script(
            Reply(["ok = 1\n"]),
            Reply(error=ErrorSpec(code=429, message="Quota exceeded", retry_delay="5s")),
            Reply(["half = 1\n", "x\n"], error_event_after=1),
            Reply(["gone = 1\n", "x\n"], disconnect_after=1),
        )
        async with session(
            tmp_path,
            emulator,
            env={"GEMINI_API_KEY": ENV_KEY},
            log_level="DEBUG",
            apiKey=KEY,
            retries=0,
        ) as s:
            s.lsp.set_configuration(
                {"apiKey": KEY, "baseUrl": emulator.base_url, "retries": 0}, section="geminiLsp"
            )

            doc = s.open("secret.py", "\n")
            outcomes = []
            for _ in range(4):  # success, quota, error event, disconnect
                try:
                    result = await s.execute("gemini.generate", generate_args(doc, 0))
                    outcomes.append(result["status"])
                except Exception as error:
                    outcomes.append(str(error))
            # The key pushed and pulled through every settings path, then a wrong one.
            s.lsp.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings={"geminiLsp": {"apiKey": KEY}})
            )
            s.lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(None))
            s.configure(apiKey=WRONG_KEY, retries=0)
            outcomes.append(str(await s.fails("gemini.generate", generate_args(doc, 0))))
            s.configure(apiKey=12345)  # an invalid value is reported without echoing it
            await s.stats()
        assert outcomes[0] == "completed" and "not valid" in outcomes[-1]
        assert len(outcomes) == 5 and len(s.received) > 20
        assert [r.api_key for r in emulator.requests].count(KEY) == 4  # all but the wrong one
        everything = s.everything()
        log = s.log_file.read_text()
        assert "Sending data" in log and "***" in log  # the DEBUG log did carry the keys, masked
        for key in (KEY, ENV_KEY, WRONG_KEY):
            for piece in (key, key[8:], json.dumps(key)[1:-1]):
                assert piece not in everything


def printed_shapes(key: str) -> list[str]:
    """How a key would be printed: as configured, stripped, and escaped as a log, a JSON body
    or a URL would escape it (written here independently of the server's masker)."""
    core = key.strip()
    shapes = {
        key,
        core,
        repr(core)[1:-1],
        repr(core.encode("utf-8", "surrogatepass"))[2:-1],
        json.dumps(core)[1:-1],
        json.dumps(core, ensure_ascii=False)[1:-1],
        repr(json.dumps(core))[2:-2],
        json.dumps(repr(core))[2:-2],
        urllib.parse.quote(core, safe=""),
    }
    return [shape for shape in shapes if len(shape) >= 8]


def assert_never_printed(everything: str, key: str) -> None:
    for shape in printed_shapes(key):
        assert shape not in everything, f"the key was printed as {shape!r}"


async def _generate_once(s: Session) -> str:
    doc = s.open("key.py", "\n")
    try:
        result = await s.execute("gemini.generate", generate_args(doc, 0))
    except JsonRpcException as error:
        return f"failed: {error.message}"
    return str(result["status"])


async def test_a_key_with_surrounding_whitespace_is_masked(tmp_path: Path) -> None:
    """The masker used to look for the key as configured, whitespace and all."""
    key = "  " + KEY + "\n"
    async with Emulator(api_key=KEY, first_token_ms=0, chars_per_second=0) as emulator:
        async with session(tmp_path, emulator, env={}, log_level="DEBUG", apiKey=key) as s:
            assert await _generate_once(s) == "completed"  # sent stripped, as the SDK does
        assert [r.api_key for r in emulator.requests] == [KEY]
    assert_never_printed(s.everything(), key)
    log = s.log_file.read_text()
    assert "Sending data" in log and "***" in log  # the DEBUG log had it, masked


async def test_a_key_with_a_backslash_is_masked_in_debug_logs(tmp_path: Path) -> None:
    """repr() doubles the backslash: the masker used to look for the key as it is only."""
    key = "AIzaBack\\slash-9d8c7b6a5f4e3d2c1b0a"
    async with Emulator(api_key=key, first_token_ms=0, chars_per_second=0) as emulator:
        async with session(tmp_path, emulator, env={}, log_level="DEBUG", apiKey=key) as s:
            assert await _generate_once(s) == "completed"
        assert [r.api_key for r in emulator.requests] == [key]
    assert "\\\\" in repr(key)  # its repr is what pygls' DEBUG log prints
    assert_never_printed(s.everything(), key)


@pytest.mark.parametrize("where", ["environment", "settings"])
async def test_a_key_with_a_control_character_is_refused_without_printing_it(
    where: str, tmp_path: Path
) -> None:
    """The HTTP library refuses such a header with an error message that quotes it."""
    key = "AIzaCtrlFirstHalf-4b5c6d\nSecondHalf-8e9f0a1b2c"
    env = {"GEMINI_API_KEY": key} if where == "environment" else {}
    settings = {"apiKey": key} if where == "settings" else {}
    async with (
        Emulator(api_key=KEY, first_token_ms=0, chars_per_second=0) as emulator,
        session(tmp_path, emulator, env=env, log_level="DEBUG", retries=0, **settings) as s,
    ):
        outcome = await _generate_once(s)
    everything = s.everything()
    assert_never_printed(everything, key)
    for half in ("AIzaCtrlFirstHalf-4b5c6d", "SecondHalf-8e9f0a1b2c"):
        assert half not in everything
    assert emulator.requests == []  # never sent
    if where == "environment":
        assert outcome.startswith("failed: The Gemini API key in GEMINI_API_KEY contains a ")
        assert "control character" in outcome
    else:  # an invalid setting is reported and left out; no other key: none is sent
        shown = [m.message for m in s.lsp.messages]
        assert any("geminiLsp.apiKey" in m and "control character" in m for m in shown)


async def test_tcp_listens_on_loopback(tmp_path: Path) -> None:
    log = tmp_path / "tcp.log"
    process = await _serve_tcp(tmp_path)
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while not (found := re.search(r"listening on ([\d.]+):(\d+)", _text(log))):
            assert asyncio.get_running_loop().time() < deadline, _text(log)
            await asyncio.sleep(0.05)
        host, port = found.group(1), int(found.group(2))
        assert host == "127.0.0.1"
        assert _listening(port) == ["127.0.0.1"]  # and nowhere else
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for message in (
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
            {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
        ):
            writer.write(frame(message))
            answer = await asyncio.wait_for(_read(reader), 20)
            assert answer["id"] == message["id"] and "error" not in answer
        assert _listening(port) == []  # one client per server: no one else can connect
        writer.write(frame({"jsonrpc": "2.0", "method": "exit"}))
        assert await asyncio.wait_for(process.wait(), 10) == 0
        writer.close()
    finally:
        if process.returncode is None:
            process.kill()


def _text(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def _listening(port: int) -> list[str]:
    """Addresses with a socket listening on `port`, from /proc/net/tcp{,6}."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                if len(address) == 8:
                    found.append(".".join(str(b) for b in reversed(bytes.fromhex(address))))
                else:
                    found.append(address)
    return found


async def _read(reader: asyncio.StreamReader) -> dict[str, object]:
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    answer: dict[str, object] = json.loads(await reader.readexactly(length))
    return answer


async def _serve_tcp(tmp_path: Path, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gemini_lsp",
        "--tcp",
        "--port",
        "0",
        "--log-file",
        str(tmp_path / "tcp.log"),
        *extra,
        env=server_env(),
        stderr=asyncio.subprocess.PIPE,
    )


async def test_tcp_on_an_address_others_can_reach_is_refused(tmp_path: Path) -> None:
    process = await _serve_tcp(tmp_path, "--host", "0.0.0.0")
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 2
    message = stderr.decode()
    assert "refusing to serve on 0.0.0.0" in message and "--allow-remote" in message
    assert "no authentication" in message and "API key" in message
    assert "listening" not in _text(tmp_path / "tcp.log")


async def test_tcp_with_allow_remote_says_what_it_risks(tmp_path: Path) -> None:
    process = await _serve_tcp(tmp_path, "--host", "0.0.0.0", "--allow-remote")
    log = tmp_path / "tcp.log"
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while not (found := re.search(r"listening on ([\d.]+):(\d+)", _text(log))):
            assert process.returncode is None, _text(log)
            assert asyncio.get_running_loop().time() < deadline, _text(log)
            await asyncio.sleep(0.05)
        assert found.group(1) == "0.0.0.0"
    finally:
        process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), 10)
    warning = stderr.decode()
    assert "WARNING: serving on 0.0.0.0 (--allow-remote)" in warning
    assert "no authentication" in warning and "read the files" in warning
    assert "spend your Gemini API key" in warning
    assert "no authentication" in _text(log)  # and in the log
