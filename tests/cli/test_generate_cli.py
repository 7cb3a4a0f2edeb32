"""`gemini-lsp generate` never hurts a file: each rule, through the real console script."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from gemini_lsp.emulator import EmulatorThread, Reply
from gemini_lsp.emulator.scenario import Chunk

from .conftest import KEY, SCRIPT, clean_env, generate

ORIGINAL = b"import os\n\n\nprint(os.name)\n"
FIB_PROMPT = "Write a function that returns the n-th Fibonacci number iteratively"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "demo.py"
    path.write_bytes(ORIGINAL)
    return path


def test_without_a_key_it_refuses_and_writes_nothing(source: Path) -> None:
    run = generate(source, "--line", "1", "--prompt", FIB_PROMPT)
    assert run.returncode == 3
    assert source.read_bytes() == ORIGINAL
    assert "GEMINI_API_KEY" in run.stderr
    assert "--emulator" in run.stderr
    assert "GOOGLE_GENAI_USE_VERTEXAI" in run.stderr
    assert "Traceback" not in run.stderr


def test_with_emulator_it_writes_the_emulators_code_and_says_so(source: Path) -> None:
    run = generate(source, "--line", "1", "--prompt", FIB_PROMPT, "--emulator")
    assert run.returncode == 0, run.stderr
    assert "emulator" in run.stderr
    text = source.read_text()
    assert "Written by the gemini-lsp emulator" in text
    namespace: dict[str, object] = {}
    exec(text, namespace)
    assert namespace["fibonacci"](10) == 55  # type: ignore[operator]


def test_a_key_and_base_url_go_to_that_endpoint(
    source: Path, emulator: EmulatorThread, gemini_env: dict[str, str]
) -> None:
    emulator.script(Reply(["VALUE = 1\n"]))
    run = generate(source, "--line", "3", "--prompt", "a constant", env=gemini_env)
    assert run.returncode == 0, run.stderr
    assert source.read_bytes() == b"import os\n\n\nVALUE = 1\nprint(os.name)\n"
    assert emulator.emulator.requests[0].api_key == KEY
    assert f"Gemini at {emulator.emulator.base_url}" in run.stderr


def test_a_base_url_alone_is_used_as_the_sdk_would(source: Path, emulator: EmulatorThread) -> None:
    """No key but an endpoint: no refusal from the CLI; the SDK's own rule (it wants a key
    for the Gemini API) decides, and the file stays as it was."""
    env = clean_env(GOOGLE_GEMINI_BASE_URL=emulator.emulator.base_url)
    run = generate(source, "--prompt", "a constant", env=env)
    assert run.returncode == 1
    assert "No Gemini API key, so nothing was written" not in run.stderr
    assert "API key" in run.stderr
    assert source.read_bytes() == ORIGINAL


def test_vertex_ai_settings_need_no_gemini_key(source: Path, emulator: EmulatorThread) -> None:
    """Vertex AI from the environment, through a gateway: with GOOGLE_GENAI_USE_VERTEXAI set
    and no project or location, the SDK sends Vertex requests to GOOGLE_GEMINI_BASE_URL
    unauthenticated (its proxy mode). The CLI lets it: the request reaches the endpoint.
    This emulator only speaks the Gemini API's paths, so it answers an error, and the file
    stays as it was."""
    env = clean_env(
        GOOGLE_GENAI_USE_VERTEXAI="true", GOOGLE_GEMINI_BASE_URL=emulator.emulator.base_url
    )
    run = generate(source, "--prompt", "a constant", env=env)
    assert "Generating with Vertex AI" in run.stderr
    assert "No Gemini API key" not in run.stderr
    request = emulator.wait_for_request()
    assert request.api_key is None
    assert run.returncode == 1
    assert source.read_bytes() == ORIGINAL


def test_a_range_is_rewritten_with_the_model_asked_for(
    source: Path, emulator: EmulatorThread, gemini_env: dict[str, str]
) -> None:
    emulator.script(Reply(["print(os.sep)\n"]))
    run = generate(
        source,
        "--range",
        "3:0-4:0",
        "--model",
        "gemini-cli-test",
        "--prompt",
        "the separator",
        env=gemini_env,
    )
    assert run.returncode == 0, run.stderr
    assert source.read_bytes() == b"import os\n\n\nprint(os.sep)\n"
    assert emulator.emulator.requests[0].model == "gemini-cli-test"


def test_a_malformed_range_is_refused_and_writes_nothing(
    source: Path, emulator: EmulatorThread, gemini_env: dict[str, str]
) -> None:
    run = generate(source, "--range", "3-4", "--prompt", "the separator", env=gemini_env)
    assert run.returncode != 0
    assert "--range must look like 3:0-7:0" in run.stderr
    assert source.read_bytes() == ORIGINAL
    assert not emulator.emulator.requests


@pytest.mark.parametrize("flag", ["--stdout", "--diff", "--dry-run"])
def test_output_flags_leave_the_file_alone(
    source: Path, emulator: EmulatorThread, gemini_env: dict[str, str], flag: str
) -> None:
    emulator.script(Reply(["VALUE = 1\n"]))
    stamp = source.stat().st_mtime_ns
    run = generate(source, "--line", "3", "--prompt", "a constant", flag, env=gemini_env)
    assert run.returncode == 0, run.stderr
    assert source.read_bytes() == ORIGINAL
    assert source.stat().st_mtime_ns == stamp
    if flag == "--stdout":
        assert run.stdout == "import os\n\n\nVALUE = 1\nprint(os.name)\n"
    elif flag == "--diff":
        assert f"--- a/{source}" in run.stdout
        assert "\n+VALUE = 1\n" in run.stdout
    else:
        assert "VALUE = 1" in run.stdout
        assert "not saved (--dry-run)" in run.stdout


def test_prompt_dash_reads_stdin(
    source: Path, emulator: EmulatorThread, gemini_env: dict[str, str]
) -> None:
    emulator.script(Reply(["VALUE = 1\n"]))
    run = generate(source, "--prompt", "-", env=gemini_env, stdin="the answer from stdin, please\n")
    assert run.returncode == 0, run.stderr
    sent = str(emulator.emulator.requests[0].body)
    assert "Instruction: the answer from stdin, please" in sent


def test_the_save_is_atomic_and_keeps_the_mode(
    source: Path, emulator: EmulatorThread, gemini_env: dict[str, str]
) -> None:
    emulator.script(Reply(["VALUE = 1\n"]))
    source.chmod(0o640)
    link = source.with_name("link.py")
    link.symlink_to(source.name)
    before = source.stat().st_ino
    run = generate(link, "--line", "1", "--prompt", "a constant", env=gemini_env)
    assert run.returncode == 0, run.stderr
    # Renamed over, not rewritten in place: a new inode, the old mode, the link kept.
    assert source.stat().st_ino != before
    assert source.stat().st_mode & 0o777 == 0o640
    assert link.is_symlink()
    assert b"VALUE = 1" in source.read_bytes()
    assert sorted(p.name for p in source.parent.iterdir()) == ["demo.py", "link.py"]


def test_crlf_line_endings_and_a_missing_final_newline_are_kept(
    tmp_path: Path, emulator: EmulatorThread, gemini_env: dict[str, str]
) -> None:
    path = tmp_path / "windows.py"
    path.write_bytes(b"import os\r\n\r\nprint(os.name)")
    emulator.script(Reply(["def f():\n", "    return 1\n"]))
    run = generate(path, "--line", "2", "--prompt", "a function", env=gemini_env)
    assert run.returncode == 0, run.stderr
    assert path.read_bytes() == b"import os\r\n\r\ndef f():\r\n    return 1\r\nprint(os.name)"


def test_the_line_count_is_right(
    source: Path, emulator: EmulatorThread, gemini_env: dict[str, str]
) -> None:
    # Three lines, the last without a line break: all three count.
    emulator.script(Reply(["a = 1\nb = 2\n", "c = 3"]))
    run = generate(source, "--line", "1", "--prompt", "three", env=gemini_env)
    assert run.returncode == 0, run.stderr
    assert "completed: 3 lines in" in run.stdout
    emulator.script(Reply(["a = 1\n"]))
    run = generate(source, "--line", "1", "--prompt", "one", env=gemini_env)
    assert "completed: 1 line in" in run.stdout


def test_a_failure_writes_nothing_and_exits_1(
    source: Path, emulator: EmulatorThread, gemini_env: dict[str, str]
) -> None:
    emulator.script(Reply(error_event_after=1, chunks=["VALUE = 1\n", "OTHER = 2\n"]))
    run = generate(source, "--line", "1", "--prompt", "a constant", env=gemini_env)
    assert run.returncode == 1
    assert source.read_bytes() == ORIGINAL
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("on_cancel", ["keep", "discard"])
def test_ctrl_c_stops_the_stream_and_exits_130(
    source: Path, emulator: EmulatorThread, gemini_env: dict[str, str], on_cancel: str
) -> None:
    chunks = [Chunk(f"line_{i} = {i}\n", delay_ms=0 if i < 3 else 400) for i in range(30)]
    emulator.script(Reply(chunks))
    process = subprocess.Popen(
        [
            str(SCRIPT),
            "generate",
            str(source),
            "--line",
            "1",
            "--prompt",
            "slow",
            "--on-cancel",
            on_cancel,
        ],
        env=gemini_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        # The first lines have arrived: the stream is under way.
        assert process.stdout.readline().startswith("line_0 = 0")
        request = emulator.wait_for_request()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    emulator.wait_for_disconnect(request)
    assert request.disconnected_at is not None
    saved = source.read_bytes()
    if on_cancel == "keep":
        assert saved.startswith(b"import os\nline_0 = 0\nline_1 = 1\n")
        assert b"line_29" not in saved
        assert saved.endswith(b"\nprint(os.name)\n")
    else:
        assert saved == ORIGINAL
    assert "cancelled" in stdout


def test_a_file_changed_meanwhile_is_not_overwritten(
    source: Path, emulator: EmulatorThread, gemini_env: dict[str, str]
) -> None:
    emulator.script(Reply([Chunk("VALUE = 1\n", delay_ms=1500)]))
    process = subprocess.Popen(
        [str(SCRIPT), "generate", str(source), "--line", "1", "--prompt", "slow"],
        env=gemini_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    emulator.wait_for_request(timeout=20)
    source.write_bytes(b"# edited meanwhile\n")
    stdout, _stderr = process.communicate(timeout=30)
    assert process.returncode == 1
    assert source.read_bytes() == b"# edited meanwhile\n"
    assert "changed on disk" in stdout


def test_no_such_file_is_a_usage_error(tmp_path: Path) -> None:
    run = generate(tmp_path / "missing.py", "--prompt", "x", "--emulator")
    assert run.returncode == 2
    assert "no such file" in run.stderr
    assert not os.path.exists(tmp_path / "missing.py")
