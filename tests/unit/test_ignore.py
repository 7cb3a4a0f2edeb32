"""`.geminiignore` files read exactly as git reads `.gitignore` files, and the default
exclusions, whatever their case."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemini_lsp.gemini.ignore import DEFAULT_EXCLUSIONS, FolderRules, default_excluded, parse_rules
from gemini_lsp.gemini.workspace import Workspace


def _rules(root: Path, files: dict[str, str | bytes]) -> FolderRules:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return FolderRules(str(root))


def _excluded(rules: FolderRules, path: str) -> bool:
    return rules.excluded(PurePosixPath(path))


def test_a_leading_double_star_matches_in_every_folder(tmp_path: Path) -> None:
    rules = _rules(tmp_path, {".geminiignore": "**/build.log\n"})
    assert _excluded(rules, "build.log")
    assert _excluded(rules, "a/b/build.log")
    assert not _excluded(rules, "a/build.log.txt")


def test_a_double_star_in_the_middle_matches_zero_or_more_folders(tmp_path: Path) -> None:
    rules = _rules(tmp_path, {".geminiignore": "a/**/b\n"})
    assert _excluded(rules, "a/b")
    assert _excluded(rules, "a/x/b")
    assert _excluded(rules, "a/x/y/b")
    assert not _excluded(rules, "x/a/b")  # anchored: it has a slash in the middle
    assert not _excluded(rules, "a/xb")


def test_a_negation_includes_again(tmp_path: Path) -> None:
    rules = _rules(tmp_path, {".geminiignore": "*.log\n!keep.log\n"})
    assert _excluded(rules, "debug.log")
    assert not _excluded(rules, "keep.log")
    assert not _excluded(rules, "logs/keep.log")


def test_nothing_inside_an_excluded_folder_is_included_again(tmp_path: Path) -> None:
    rules = _rules(tmp_path, {".geminiignore": "private/\n!private/plan.txt\n"})
    assert _excluded(rules, "private/plan.txt")


def test_a_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    rules = _rules(tmp_path, {".geminiignore": b"\xef\xbb\xbfsecret.txt\r\n"})
    assert _excluded(rules, "secret.txt")


def test_a_latin1_ignore_file_is_matched_byte_for_byte_with_a_warning(tmp_path: Path) -> None:
    warnings: list[str] = []
    (tmp_path / ".geminiignore").write_bytes(b"caf\xe9.txt\nnotes/\n")
    rules = FolderRules(str(tmp_path), warnings.append)
    assert _excluded(rules, "notes/a.txt")
    assert _excluded(rules, b"caf\xe9.txt".decode("utf-8", "surrogateescape"))
    assert warnings == [
        f"{tmp_path}/.geminiignore is not UTF-8; its patterns are matched byte for byte"
    ]


def test_a_fifo_ignore_file_is_skipped_with_a_warning(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / ".geminiignore")
    warnings: list[str] = []
    rules = FolderRules(str(tmp_path), warnings.append)
    assert not _excluded(rules, "a.txt")
    assert "not a regular file" in warnings[0]


def test_a_linked_ignore_file_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "rules").write_text("*.txt\n", encoding="utf-8")
    (tmp_path / ".geminiignore").symlink_to(tmp_path / "rules")
    warnings: list[str] = []
    assert not _excluded(FolderRules(str(tmp_path), warnings.append), "a.txt")
    assert "symbolic link" in warnings[0]


def test_a_nested_ignore_file_applies_below_its_folder(tmp_path: Path) -> None:
    rules = _rules(tmp_path, {".geminiignore": "", "lib/.geminiignore": "generated/\n/top.txt\n"})
    assert _excluded(rules, "lib/generated/x.py")
    assert _excluded(rules, "lib/a/generated/x.py")
    assert _excluded(rules, "lib/top.txt")
    assert not _excluded(rules, "generated/x.py")
    assert not _excluded(rules, "top.txt")
    assert not _excluded(rules, "lib/a/top.txt")


def test_a_deeper_ignore_file_overrides(tmp_path: Path) -> None:
    rules = _rules(tmp_path, {".geminiignore": "*.txt\n", "docs/.geminiignore": "!*.txt\n"})
    assert _excluded(rules, "a.txt")
    assert not _excluded(rules, "docs/a.txt")


def test_a_nested_workspace_folders_own_file_is_honoured(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".geminiignore").write_text("secret.txt\n", encoding="utf-8")
    (tmp_path / "sub" / "secret.txt").write_text("s\n", encoding="utf-8")
    workspace = Workspace([tmp_path, tmp_path / "sub"])
    assert workspace.excluded(str(tmp_path / "sub" / "secret.txt"))
    # Whichever folder is listed first.
    assert Workspace([tmp_path / "sub", tmp_path]).excluded(str(tmp_path / "sub" / "secret.txt"))


def test_crlf_lines_lose_their_carriage_return() -> None:
    assert parse_rules(b"a\r\nb\r\n") == (["a", "b", ""], True)


@pytest.mark.parametrize(
    "path",
    [
        ".ENV",
        "config/.Env.Local",
        "Prod.ENV",
        ".envrc",
        "deploy/.ENVRC",
        "Cert.PEM",
        "keys/server.KEY",
        "id_rsa",
        "home/.ssh/id_ed25519",
        "store.p12",
        "store.PFX",
        "site.crt",
        ".netrc",
        ".npmrc",
        ".pypirc",
        ".aws/credentials",
        "gcloud/application_default_credentials.json",
        ".config/gcloud/credentials.db",
        "deploy/my-service-account.json",
        "prod.tfstate",
        ".git/config",
        ".docker/config.json",
    ],
)
def test_default_exclusions_ignore_case(path: str) -> None:
    assert default_excluded(PurePosixPath(path))


@pytest.mark.parametrize("path", ["src/env.py", "environment.ts", "id_rsa.pub", "keys.md"])
def test_ordinary_files_are_not_excluded_by_default(path: str) -> None:
    assert not default_excluded(PurePosixPath(path))


def test_an_ignore_file_cannot_include_a_default_exclusion(tmp_path: Path) -> None:
    rules = _rules(tmp_path, {".geminiignore": "!.env\n!*.pem\n"})
    assert _excluded(rules, ".env") and _excluded(rules, "a/b.pem")


def test_a_workspace_folder_inside_a_credentials_folder_is_covered(tmp_path: Path) -> None:
    aws = tmp_path / ".aws"
    aws.mkdir()
    assert Workspace([aws]).excluded(str(aws / "credentials"))


def test_the_defaults_are_lowercase() -> None:
    # They are matched against the lowercased path.
    assert all(pattern == pattern.lower() for pattern in DEFAULT_EXCLUSIONS)


# -- git as the oracle -------------------------------------------------------------------------

NAMES = ["a", "b", "c.txt", "d.log", "x", "é.md"]
segments = st.sampled_from(NAMES)
wildcards = st.sampled_from(["*", "?", "**", "*.txt", "*.log", "[ab]", "c.*", "é*", "[!a]"])
pattern_atoms = segments | wildcards


@st.composite
def patterns(draw: st.DrawFn) -> str:
    parts = draw(st.lists(pattern_atoms, min_size=1, max_size=3))
    text = "/".join(parts)
    if draw(st.booleans()):
        text = "/" + text
    if draw(st.integers(0, 2)) == 0:
        text += "/"
    if draw(st.integers(0, 2)) == 0:
        text = "!" + text
    return text


trees = st.lists(st.lists(segments, min_size=1, max_size=3).map("/".join), min_size=1, max_size=8)
ignore_files = st.dictionaries(
    st.sampled_from(["", "a", "a/b", "x"]), st.lists(patterns(), max_size=5), max_size=3
)


def _git_ignored(root: Path) -> set[str]:
    result = subprocess.run(
        ["git", "ls-files", "-z", "--others", "--ignored", "--exclude-per-directory=.geminiignore"],
        cwd=root,
        capture_output=True,
        check=True,
        env={"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root), "PATH": "/usr/bin:/bin"},
    )
    return {path for path in result.stdout.decode("utf-8").split("\0") if path}


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(files=trees, rules=ignore_files)
def test_the_same_files_are_excluded_as_git_would_ignore(
    files: list[str], rules: dict[str, list[str]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        made: set[str] = set()
        for name in files:
            path = root / name
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                continue  # a name already used for a file or a folder
            made.add(name)
        for folder, lines in rules.items():
            place = root / folder
            try:
                place.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                continue
            (place / ".geminiignore").write_text("\n".join(lines) + "\n", encoding="utf-8")
        expected = {p for p in _git_ignored(root) if not p.endswith(".geminiignore")}
        folder_rules = FolderRules(str(root))
        ours = {name for name in made if (root / name).is_file() and _excluded(folder_rules, name)}
        assert ours == expected
