"""`python -m build` makes a clean wheel and sdist; the wheel installs and works in a fresh
virtual environment and with pipx."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from .conftest import ROOT, Built, fresh_venv, generate_with, quiet_env


def metadata(built: Built) -> tuple[list[str], Message]:
    with zipfile.ZipFile(built.wheel) as wheel:
        names = wheel.namelist()
        (meta,) = (n for n in names if n.endswith(".dist-info/METADATA"))
        return names, Parser().parsestr(wheel.read(meta).decode())


@pytest.mark.timeout(720)
def test_the_build_prints_no_warning(built: Built) -> None:
    assert "warning" not in built.log.lower(), built.log


@pytest.mark.timeout(720)
def test_the_wheel_holds_the_package_and_its_licence_only(built: Built) -> None:
    names, _ = metadata(built)
    tops = {name.split("/")[0] for name in names}
    assert tops == {
        "gemini_lsp",
        built.wheel.name.split("-")[0] + "-" + built.wheel.name.split("-")[1] + ".dist-info",
    }
    assert not [n for n in names if "tests" in n.split("/") or "editors" in n.split("/")]
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "gemini_lsp/py.typed" in names


@pytest.mark.timeout(720)
def test_the_metadata_says_what_a_registry_shows(built: Built) -> None:
    _, meta = metadata(built)
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta["License-File"] == "LICENSE"
    classifiers = meta.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # SPDX replaces them
    urls = meta.get_all("Project-URL") or []
    assert any(u.startswith("Source, https://") for u in urls)
    assert meta["Requires-Python"] == ">=3.10"


def requirements(built: Built) -> dict[str, Requirement]:
    _, meta = metadata(built)
    found = [Requirement(r) for r in meta.get_all("Requires-Dist") or []]
    return {r.name.lower(): r for r in found if r.marker is None}


def imported_top_level_modules() -> set[str]:
    modules: set[str] = set()
    for path in (ROOT / "gemini_lsp").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"gemini_lsp"}


@pytest.mark.timeout(720)
def test_every_imported_distribution_is_declared(built: Built) -> None:
    declared = requirements(built)
    providers = importlib.metadata.packages_distributions()
    for module in sorted(imported_top_level_modules()):
        distributions = {d.lower() for d in providers.get(module, [])}
        assert distributions & set(declared), f"{module} ({distributions}) is not declared"


@pytest.mark.timeout(720)
def test_every_floor_satisfies_what_the_other_dependencies_require(built: Built) -> None:
    """A floor below what another dependency needs would let pip pick a set that cannot
    install (pygls 2.1 needs attrs >= 24.3, lsprotocol refuses cattrs 23.2.1)."""
    declared = requirements(built)
    for name, requirement in declared.items():
        floors = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        assert floors, f"{name} has no floor"
        for other in declared:
            for needed in importlib.metadata.requires(other) or []:
                need = Requirement(needed)
                if need.name.lower() == name and need.marker is None:
                    assert need.specifier.contains(floors[0], prereleases=True), (
                        f"{name}>={floors[0]} is below what {other} needs: {need}"
                    )


@pytest.mark.timeout(720)
def test_the_sdist_carries_the_licence_and_readme(built: Built) -> None:
    import tarfile

    with tarfile.open(built.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"LICENSE", "README.md", "pyproject.toml"} <= names


@pytest.mark.timeout(1500)
def test_the_wheel_installed_in_a_fresh_venv_generates(built: Built, tmp_path: Path) -> None:
    bin_dir = fresh_venv(tmp_path / "venv")
    install = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(built.wheel)],
        env=quiet_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr
    run = generate_with(bin_dir / "gemini-lsp", tmp_path)
    assert run.returncode == 0, run.stderr
    namespace: dict[str, object] = {}
    exec((tmp_path / "fib.py").read_text().replace("print(", "result = ("), namespace)
    assert namespace["result"] == 55


@pytest.mark.timeout(1500)
@pytest.mark.skipif(importlib.util.find_spec("pipx") is None, reason="pipx not installed")
def test_the_wheel_installed_with_pipx_generates(built: Built, tmp_path: Path) -> None:
    env = quiet_env()
    env.update(
        PIPX_HOME=str(tmp_path / "pipx"),
        PIPX_BIN_DIR=str(tmp_path / "bin"),
        PIPX_MAN_DIR=str(tmp_path / "man"),
        PIPX_DEFAULT_PYTHON=sys.executable,
        USE_EMOJI="0",
    )
    install = subprocess.run(
        [sys.executable, "-m", "pipx", "install", str(built.wheel)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    executable = tmp_path / "bin" / "gemini-lsp"
    assert os.access(executable, os.X_OK)
    run = generate_with(executable, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "def fibonacci(n: int) -> int:" in (tmp_path / "fib.py").read_text()


@pytest.mark.timeout(900)
def test_an_editable_install_prints_no_packaging_warning(tmp_path: Path) -> None:
    """What `make venv` (and so `make demo`) runs on a fresh clone, dependencies aside."""
    bin_dir = fresh_venv(tmp_path / "venv")
    run = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "-e", str(ROOT)],
        env=quiet_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    # This machine's pip configuration names package folders that may be missing; pip
    # says so, and that is not about this package.
    lines = (run.stdout + run.stderr).splitlines()
    noise = [line for line in lines if not line.startswith("WARNING: Location 'file:")]
    assert not [line for line in noise if "warn" in line.lower()], "\n".join(noise)
