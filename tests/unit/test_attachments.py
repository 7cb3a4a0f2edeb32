from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from gemini_lsp.attachments import AttachmentError, excluded, is_private, load


@pytest.mark.parametrize(
    ("path", "patterns", "expected"),
    [
        (".env", [], True),
        ("config/.env.local", [], True),
        ("prod.env", [], True),
        ("src/main.py", [], False),
        ("secrets/token.txt", ["secrets/"], True),
        ("a/secrets/token.txt", ["secrets"], True),
        ("a/secrets/token.txt", ["/secrets/"], False),
        ("build/out.js", ["build/*.js"], True),
        ("keys/id.pem", ["*.pem"], True),
        ("notes.md", ["*.pem", "# comment"], False),
    ],
)
def test_excluded(path: str, patterns: list[str], expected: bool) -> None:
    assert excluded(PurePosixPath(path), patterns) is expected


def test_load_reads_text_and_refuses_binary(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("print(1)\n", encoding="utf-8")
    (tmp_path / "blob.bin").write_bytes(b"\xff\xfe\x00\x01")
    (attachment,) = load([(tmp_path / "a.py").as_uri()], [tmp_path])
    assert (attachment.relative, attachment.mime_type) == ("a.py", "text/plain")
    with pytest.raises(AttachmentError, match="neither text nor"):
        load([(tmp_path / "blob.bin").as_uri()], [tmp_path])


def test_private_files(tmp_path: Path) -> None:
    (tmp_path / ".geminiignore").write_text("drafts/\n", encoding="utf-8")
    assert is_private(tmp_path / "drafts" / "x.py", [tmp_path])
    assert is_private(tmp_path / ".env", [tmp_path])
    assert not is_private(tmp_path / "src" / "x.py", [tmp_path])
