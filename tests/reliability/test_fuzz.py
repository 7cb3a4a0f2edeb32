"""Random command arguments: every answer is a result, InvalidParams or a clear RequestFailed,
never an internal error, and the server keeps serving."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pygls.exceptions import JsonRpcException

from gemini_lsp.lsp import arguments
from tests.reliability.harness import (
    INVALID_PARAMS,
    REQUEST_FAILED,
    Background,
    Session,
    generate_args,
    sent_to_gemini,
)

EXAMPLES = 500
ATTACHMENT_EXAMPLES = 150
ARGUMENT_CLASSES = {
    arguments.GENERATE: arguments.GenerateArgs,
    arguments.EDIT: arguments.EditArgs,
    arguments.CANCEL: arguments.CancelArgs,
    arguments.REVERT: arguments.RevertArgs,
    arguments.REFINE: arguments.RefineArgs,
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
lines = st.integers(min_value=-2, max_value=6) | st.integers()
positions = st.fixed_dictionaries({"line": lines, "character": lines})


# Next to the workspace, never to be read: whatever the arguments, this never reaches Gemini.
CANARY = f"canary-{secrets.token_hex(8)}"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Background, Session]]:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "canary.txt").write_text(CANARY + "\n")
    workspace = tmp_path_factory.mktemp("fuzz")
    (workspace / "link.txt").symlink_to(outside / "canary.txt")
    (workspace / "elsewhere").symlink_to(outside)
    background = Background(workspace)
    s = background.run(background.start())
    background.run(_open(s))
    yield background, s
    background.close()


async def _open(s: Session) -> None:
    s.open("fuzz.py", "def f():\n    pass\n")
    (s.workspace / "notes.txt").write_text("a note\n")


def attachment_uris(workspace: Path) -> list[str]:
    """Attachments that may be read, and many that may not (outside, through links, not
    files, unusable URIs)."""
    outside = (workspace / "link.txt").readlink()
    return [
        (workspace / "notes.txt").as_uri(),
        outside.as_uri(),
        workspace.as_uri() + f"/../{outside.parent.name}/canary.txt",
        (workspace / "link.txt").as_uri(),
        (workspace / "elsewhere" / "canary.txt").as_uri(),
        "file:///etc/passwd",
        "file:///proc/self/environ",
        "file:///proc/self/fd/0",
        workspace.as_uri() + "/notes.txt%00",
        workspace.as_uri() + "/%ff",
        "file://other-host/etc/passwd",
        "https://x",
        "../x",
    ]


@st.composite
def command_arguments(draw: st.DrawFn, uri: str, workspace: Path) -> tuple[str, list[Any]]:
    command = draw(st.sampled_from([*ARGUMENT_CLASSES, "gemini.nothing"]))
    cls = ARGUMENT_CLASSES.get(command)
    valid = {
        "textDocument": st.sampled_from(
            [{"uri": uri}, {"uri": "file:///not/open.py"}, {"uri": "untitled:1"}]
        ),
        "position": positions,
        "range": st.fixed_dictionaries({"start": positions, "end": positions}),
        "prompt": st.text(max_size=40)
        | st.just("x" * (arguments.MAX_PROMPT_CHARS + 1))
        | st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3),  # lone surrogates
        "promptRequest": st.text(max_size=20),
        "model": st.sampled_from(["gemini-2.5-flash", "not-a-model", ""]),
        "id": st.sampled_from(["g1", "g2", "g999", ""]),
        "attachments": st.just([(workspace / "notes.txt").as_uri()])
        | st.lists(st.sampled_from(attachment_uris(workspace)), max_size=2),
    }
    argument: dict[str, Any] = {}
    names = [_camel(a.name) for a in attrs.fields(cls)] if cls else ["prompt"]
    for name in names:
        choice = draw(st.sampled_from(["valid", "valid", "random", "missing"]))
        if choice == "valid":
            argument[name] = draw(valid.get(name, json_values))
        elif choice == "random":
            argument[name] = draw(json_values)
    if draw(st.integers(0, 9)) == 0:
        argument[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return command, [draw(json_values)]  # not an object
    if shape == 1:
        return command, [argument, argument]  # one too many
    return command, [argument]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def _execute(s: Session, command: str, args: list[Any]) -> str:
    from lsprotocol import types

    try:
        await asyncio.wait_for(
            s.lsp.workspace_execute_command_async(types.ExecuteCommandParams(command, args)), 20
        )
    except JsonRpcException as caught:
        error = caught
    else:
        return "result"
    assert error.code in (INVALID_PARAMS, REQUEST_FAILED), (command, args, error)
    assert error.message and "Traceback" not in error.message
    return "InvalidParams" if error.code == INVALID_PARAMS else "RequestFailed"


def test_random_command_arguments(served: tuple[Background, Session]) -> None:
    background, s = served
    uri = next(iter(s.editor.documents))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(command_arguments(uri, s.workspace))
    def answered_properly(case: tuple[str, list[Any]]) -> None:
        kind = background.run(_execute(s, *case))
        background.answers[kind] = background.answers.get(kind, 0) + 1

    answered_properly()
    print(f"fuzz: {sum(background.answers.values())} calls, {background.answers}")
    assert background.answers.get("InvalidParams", 0) > EXAMPLES // 3

    async def still_serving() -> None:
        doc = s.open("after.py", "\n")
        argument = generate_args(doc, 0)
        argument["attachments"] = [(s.workspace / "notes.txt").as_uri()]
        result = await s.execute("gemini.generate", argument)
        assert result["status"] == "completed"
        stats = await s.stats()
        assert stats["running"] == 0 and stats["commandTasks"] == 0

    background.run(still_serving())
    everything = s.everything()
    for trouble in ("Traceback", "internal error", "-32603"):
        assert trouble not in everything
    # Nothing outside the workspace was ever read, let alone sent.
    sent = sent_to_gemini(background.emulator)
    assert "a note" in sent  # the attachment that may be sent was
    for outside in (CANARY, "root:x:0:0", "GEMINI_API_KEY="):
        assert outside not in sent


def test_random_attachments_never_read_outside_the_workspace(
    served: tuple[Background, Session],
) -> None:
    """Valid requests whose attachments are drawn from the hostile list: each reaches the
    reading, and nothing outside the workspace is ever read."""
    background, s = served
    uri = next(iter(s.editor.documents))
    hostile = attachment_uris(s.workspace)
    outcomes: dict[str, int] = {}

    @settings(max_examples=ATTACHMENT_EXAMPLES, deadline=None, derandomize=True)
    @given(st.lists(st.sampled_from(hostile), min_size=1, max_size=3))
    def answered(uris: list[str]) -> None:
        argument = {
            "textDocument": {"uri": uri},
            "position": {"line": 0, "character": 0},
            "prompt": "use the files",
            "attachments": uris,
        }
        kind = background.run(_execute(s, arguments.GENERATE, [argument]))
        outcomes[kind] = outcomes.get(kind, 0) + 1

    answered()
    assert outcomes.get("result", 0) > 0 and outcomes.get("InvalidParams", 0) > 0
    sent = sent_to_gemini(background.emulator)
    assert "a note" in sent
    for outside in (CANARY, "root:x:0:0", "GEMINI_API_KEY="):
        assert outside not in sent
