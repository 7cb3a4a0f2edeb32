"""The package's layers, checked on the source: every import statement, at module level, in
a function or under `TYPE_CHECKING`, and every `importlib.import_module("…")` of a literal.

The arrows run lsp → generations → {engine, gemini}; inline → {engine, gemini}; the
command-line client (`cli`) talks to the server over LSP as any editor does; `config` and
`contract` are shared by all; the emulator stands alone, as the real Gemini API does.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gemini_lsp"
ROOT = "gemini_lsp"


@attrs.frozen
class Layer:
    """What the modules of `package` may not import: modules of ours outside `allowed`
    (`gemini_lsp` itself, the version, is always allowed), and the `forbidden` libraries."""

    package: str
    allowed: tuple[str, ...]
    forbidden: tuple[str, ...] = ()


SHARED = ("gemini_lsp.config", "gemini_lsp.contract")
LAYERS = [
    Layer("gemini_lsp.engine", ("gemini_lsp.engine",), ("pygls", "google")),
    # The Gemini side knows nothing of LSP or documents; config reads its key rules.
    Layer("gemini_lsp.gemini", ("gemini_lsp.gemini", *SHARED), ("pygls", "lsprotocol")),
    Layer(
        "gemini_lsp.generations",
        ("gemini_lsp.generations", "gemini_lsp.engine", "gemini_lsp.gemini", *SHARED),
        ("pygls",),
    ),
    Layer(
        "gemini_lsp.inline",
        ("gemini_lsp.inline", "gemini_lsp.engine", "gemini_lsp.gemini", *SHARED),
        ("pygls",),
    ),
    Layer(
        "gemini_lsp.lsp",
        (
            "gemini_lsp.lsp",
            "gemini_lsp.generations",
            "gemini_lsp.inline",
            "gemini_lsp.engine",
            "gemini_lsp.gemini",
            *SHARED,
        ),
    ),
    # A client of the server (text handling, key masking, the emulator as its `--emulator`
    # source), never the server's insides.
    Layer(
        "gemini_lsp.cli",
        (
            "gemini_lsp.cli",
            "gemini_lsp.engine",
            "gemini_lsp.gemini.secrets",
            "gemini_lsp.emulator",
            *SHARED,
        ),
        ("google",),
    ),
    Layer("gemini_lsp.config", (*SHARED, "gemini_lsp.gemini.secrets"), ("pygls", "google")),
    Layer("gemini_lsp.contract", ("gemini_lsp.contract",), ("pygls", "google")),
    Layer("gemini_lsp.emulator", ("gemini_lsp.emulator",), ("pygls", "google", "lsprotocol")),
]


@attrs.frozen
class Import:
    module: str  # the importing module
    line: int
    target: str  # the module imported, absolute


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_ours(name: str) -> bool:
    return name == ROOT or name.startswith(ROOT + ".")


def exists(name: str) -> bool:
    """Whether `name` is one of our modules or packages (`from a import b`: b may be one)."""
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path, source: str | None = None) -> Iterator[Import]:
    """What the module at `path` imports (its `source` if given, for the self-test)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    text = path.read_text(encoding="utf-8") if source is None else source
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing package
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                ours = is_ours(candidate) and exists(candidate)
                yield Import(module, node.lineno, candidate if ours else base)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield Import(module, node.lineno, node.args[0].value)


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(layer: Layer, found: Iterable[Import]) -> list[str]:
    problems = []
    for item in sorted(set(found), key=lambda item: (item.module, item.line, item.target)):
        if not within(item.module, layer.package):
            continue
        if is_ours(item.target):
            bad = item.target != ROOT and not any(within(item.target, a) for a in layer.allowed)
        else:
            bad = any(within(item.target, f) for f in layer.forbidden)
        if bad:
            problems.append(f"{item.module} (line {item.line}) imports {item.target}")
    return problems


@functools.cache
def all_imports() -> tuple[Import, ...]:
    return tuple(item for path in sorted(PACKAGE.rglob("*.py")) for item in imports(path))


def layer_of(module: str) -> Layer | None:
    matches = [layer for layer in LAYERS if within(module, layer.package)]
    return max(matches, key=lambda layer: len(layer.package)) if matches else None


@pytest.mark.parametrize("layer", LAYERS, ids=[layer.package for layer in LAYERS])
def test_layer_imports_only_what_it_may(layer: Layer) -> None:
    problems = violations(layer, all_imports())
    rule = f"{layer.package} may import only {layer.allowed} of ours, and none of {layer.forbidden}"
    assert not problems, rule + ":\n  " + "\n  ".join(problems)


def test_every_module_belongs_to_a_layer() -> None:
    """A new package gets its rule here, or it escapes every check above."""
    modules = {module_name(path) for path in PACKAGE.rglob("*.py")}
    loose = {m for m in modules - {ROOT, f"{ROOT}.__main__"} if layer_of(m) is None}
    assert not loose, f"modules in no layer: {sorted(loose)}"


def test_the_checker_sees_imports_anywhere() -> None:
    """Imports inside functions, under TYPE_CHECKING and through importlib all count."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from pygls.lsp.server import LanguageServer\n"
        "def later():\n"
        "    import google.genai\n"
        "    importlib.import_module('pygls.protocol')\n"
        "    from gemini_lsp import lsp\n"
        "    from ..gemini import backend\n"
    )
    planted = imports(PACKAGE / "engine" / "planted.py", source)
    engine = next(layer for layer in LAYERS if layer.package == "gemini_lsp.engine")
    assert violations(engine, planted) == [
        "gemini_lsp.engine.planted (line 3) imports pygls.lsp.server",
        "gemini_lsp.engine.planted (line 5) imports google.genai",
        "gemini_lsp.engine.planted (line 6) imports pygls.protocol",
        "gemini_lsp.engine.planted (line 7) imports gemini_lsp.lsp",
        "gemini_lsp.engine.planted (line 8) imports gemini_lsp.gemini.backend",
    ]
