"""The contract with the plugins, defined once in gemini_lsp/contract, holds everywhere.

The server's settings model and argument parsing follow the contract; the plugins' copies
(VS Code's manifest and protocol.ts, Neovim's contract.lua, the README's settings table) are
what scripts/contract.py writes; Neovim's and VS Code's code take command ids from those copies;
Emacs lists the same ids.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import subprocess
import typing
from pathlib import Path
from types import ModuleType, UnionType
from typing import Any, Literal, get_args, get_origin

import attrs
import pytest

from gemini_lsp.config import SETTING_NAMES, Settings, accepts, resolve
from gemini_lsp.contract.commands import COMMANDS, GENERATION_LABEL_PREFIX
from gemini_lsp.contract.settings import SETTINGS, Setting
from gemini_lsp.lsp import arguments

ROOT = Path(__file__).resolve().parents[1]
NVIM = ROOT / ".venv/bin/nvim"
IDS = [command.id for command in COMMANDS]


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "contract_generator", ROOT / "scripts/contract.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_files_are_up_to_date() -> None:
    stale = [str(path.relative_to(ROOT)) for path in generator().stale()]
    assert stale == [], f"run `python scripts/contract.py` to update {stale}"


# -- The server follows the contract ----------------------------------------------------------

JSON_TYPES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def json_types(hint: Any) -> set[str]:
    if get_origin(hint) in (typing.Union, UnionType):
        return set().union(*(json_types(arg) for arg in get_args(hint)))
    if get_origin(hint) is Literal:
        return {"string"}
    return {"null"} if hint is type(None) else {JSON_TYPES[hint]}


def test_the_settings_model_has_the_contract_s_names_types_and_defaults() -> None:
    hints = typing.get_type_hints(Settings)
    fields = attrs.fields(Settings)
    assert [field.name for field in fields] == [setting.attribute for setting in SETTINGS]
    assert tuple(setting.name for setting in SETTINGS) == SETTING_NAMES
    for setting, field in zip(SETTINGS, fields, strict=True):
        assert field.default == setting.default, setting.name
        assert type(field.default) is type(setting.default), setting.name
        assert json_types(hints[field.name]) == set(setting.types), setting.name
        literal = [arg for arg in get_args(hints[field.name]) if isinstance(arg, str)]
        if get_origin(hints[field.name]) is Literal:
            assert literal == [value for value, _ in setting.choices], setting.name


def wrong_type(setting: Setting) -> object:
    return 1 if "string" in setting.types else "1"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.name)
def test_the_server_accepts_what_the_contract_allows(setting: Setting) -> None:
    if setting.default is not None:
        assert accepts(setting, setting.default)
    assert not accepts(setting, wrong_type(setting))
    assert not accepts(setting, [])
    if setting.minimum is not None:
        assert accepts(setting, setting.minimum)
        assert not accepts(setting, setting.minimum - 0.5)
    if setting.maximum is not None:
        assert accepts(setting, setting.maximum)
        assert not accepts(setting, setting.maximum + 1)
    if "number" in setting.types:
        assert not accepts(setting, math.nan)
    for value, _ in setting.choices:
        assert accepts(setting, value)
    if setting.choices:
        assert not accepts(setting, "none of them")
    if setting.pattern:
        assert not accepts(setting, "ftp://example.com")


def valid_sample(setting: Setting) -> object:
    """A value the setting accepts, other than its default."""
    samples = {"model": "gemini-x", "apiKey": "test-key-12345678"}
    if setting.format is not None:
        return samples[setting.format]
    if setting.choices:
        return setting.choices[-1][0]
    if setting.minimum is not None:
        return setting.minimum
    if "boolean" in setting.types:
        return setting.default is not True
    return "https://example.com" if setting.pattern else "x"


def test_every_contract_setting_reaches_the_server_by_its_name() -> None:
    for setting in SETTINGS:
        group, _, name = setting.name.rpartition(".")
        value = valid_sample(setting)
        sent = {group: {name: value}} if group else {name: value}
        resolution = resolve(sent)
        assert resolution.problems == (), setting.name
        assert getattr(resolution.settings, setting.attribute) == value, setting.name
        assert value != setting.default, setting.name


def test_the_server_parses_the_contract_s_commands() -> None:
    assert list(arguments.COMMANDS) == IDS
    for name in ("GENERATE", "EDIT", "CANCEL", "REVERT", "REFINE"):
        assert getattr(arguments, name) in IDS
    for command in COMMANDS:
        assert getattr(arguments, command.arguments.__name__) is command.arguments


def test_streaming_edits_carry_the_contract_s_label() -> None:
    registry = (ROOT / "gemini_lsp/generations/registry.py").read_text(encoding="utf-8")
    assert f'f"{GENERATION_LABEL_PREFIX}{{generation_id}}"' in registry


# -- The plugins take their command ids from the contract --------------------------------------

COMMAND_LITERAL = re.compile(r"""['"`](gemini\.\w+)""")


def literals(paths: list[Path]) -> dict[str, list[str]]:
    found = {
        str(path.relative_to(ROOT)): COMMAND_LITERAL.findall(path.read_text()) for path in paths
    }
    return {path: ids for path, ids in found.items() if ids}


def test_vscode_code_names_commands_only_through_protocol_ts() -> None:
    sources = [
        p for p in sorted((ROOT / "editors/vscode/src").glob("*.ts")) if p.name != "protocol.ts"
    ]
    assert literals(sources) == {}


def test_neovim_code_names_commands_only_through_contract_lua() -> None:
    lua = ROOT / "editors/nvim/lua/gemini_lsp"
    assert literals([p for p in sorted(lua.glob("*.lua")) if p.name != "contract.lua"]) == {}


def nvim_eval(expression: str, tmp_path: Path) -> Any:
    """A Lua expression's value as JSON, evaluated in a headless Neovim with the plugin."""
    script = tmp_path / "eval.lua"
    script.write_text(f"io.stdout:write(vim.json.encode({expression}))", encoding="utf-8")
    plugin = f"set rtp^={ROOT / 'editors/nvim'}"
    result = subprocess.run(
        [str(NVIM), "--headless", "--clean", "-n", "-i", "NONE", "--cmd", plugin, "-l", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.skipif(not NVIM.exists(), reason="Neovim comes with the test extras")
def test_neovim_registers_the_contract_s_commands(tmp_path: Path) -> None:
    config = "require('gemini_lsp.config')"
    assert nvim_eval(f"{config}.server_commands", tmp_path) == IDS
    handlers = nvim_eval(f"vim.tbl_keys({config}.lsp_config().commands)", tmp_path)
    assert sorted(handlers) == sorted(IDS)


def test_vscode_palette_commands_do_not_clash_with_server_commands() -> None:
    package = json.loads((ROOT / "editors/vscode/package.json").read_text(encoding="utf-8"))
    palette = {command["command"] for command in package["contributes"]["commands"]}
    assert not palette & set(IDS)


# -- The VS Code extension's manifest: trust, scopes, Escape, activation, packaging ---------

VSCODE = ROOT / "editors/vscode"
# Settings that name what runs or where the key goes: only User or Remote settings set them.
VSCODE_MACHINE_SETTINGS = {
    "geminiLsp.server.command",
    "geminiLsp.server.python",
    "geminiLsp.baseUrl",
}
# What an untrusted workspace may not set either: where requests go and what they ask.
VSCODE_RESTRICTED_SETTINGS = VSCODE_MACHINE_SETTINGS | {
    "geminiLsp.vertexai",
    "geminiLsp.project",
    "geminiLsp.location",
    "geminiLsp.systemInstruction",
}


def vscode_manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    return manifest


def test_vscode_settings_that_run_or_send_are_machine_scoped_and_restricted() -> None:
    manifest = vscode_manifest()
    properties = manifest["contributes"]["configuration"]["properties"]
    machine = {name for name, spec in properties.items() if spec.get("scope") == "machine"}
    assert machine == VSCODE_MACHINE_SETTINGS
    trust = manifest["capabilities"]["untrustedWorkspaces"]
    assert trust["supported"] == "limited"
    assert set(trust["restrictedConfigurations"]) == VSCODE_RESTRICTED_SETTINGS
    assert set(properties) >= VSCODE_RESTRICTED_SETTINGS
    # The extension's own list (the Remote settings hint): its launch settings and the
    # server's from protocol.ts; and the test harness's list agree.
    source = (VSCODE / "src/settings.ts").read_text(encoding="utf-8")
    launch = source[source.index("LAUNCH_MACHINE_SETTINGS =") :].split(";")[0]
    protocol = (VSCODE / "src/protocol.ts").read_text(encoding="utf-8")
    server = protocol[protocol.index("SERVER_MACHINE_SETTINGS =") :].split(";")[0]
    listed = re.findall(r"'(geminiLsp\.[\w.]+)'", launch + server)
    assert set(listed) == VSCODE_MACHINE_SETTINGS
    assert "MACHINE_SETTINGS = [...LAUNCH_MACHINE_SETTINGS, ...SERVER_MACHINE_SETTINGS]" in source
    harness = (ROOT / "tests/editors/vscode/vscode_harness.py").read_text(encoding="utf-8")
    block = harness[harness.index("MACHINE_SETTINGS =") :].split(")")[0]
    assert set(re.findall(r'"(geminiLsp\.[\w.]+)"', block)) == VSCODE_MACHINE_SETTINGS


def test_vscode_escape_yields_to_everything_that_owns_escape() -> None:
    (binding,) = [
        b for b in vscode_manifest()["contributes"]["keybindings"] if b["key"] == "escape"
    ]
    assert binding["command"] == "geminiLsp.cancel"
    terms = set(binding["when"].split(" && "))
    assert {"geminiLsp.generating", "editorTextFocus"} <= terms
    for owner in (
        "suggestWidgetVisible",
        "inlineSuggestionVisible",
        "parameterHintsVisible",
        "findWidgetVisible",
        "referenceSearchVisible",
        "inReferenceSearchEditor",
        "renameInputVisible",
        "notificationToastsVisible",
        "inSnippetMode",
        "editorHasMultipleSelections",
        "vim.active",
        "neovim.init",
    ):
        assert f"!{owner}" in terms, owner


def test_vscode_activates_on_its_languages_not_at_startup() -> None:
    events = vscode_manifest()["activationEvents"]
    assert "onStartupFinished" not in events and "*" not in events
    assert "onLanguage:python" in events
    assert all(event.startswith("onLanguage:") for event in events)


def test_vscode_package_is_publishable_as_is() -> None:
    manifest = vscode_manifest()
    assert not manifest.get("private")
    assert manifest["license"] == "Apache-2.0"
    assert (VSCODE / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    assert (VSCODE / manifest["icon"]).exists()
    assert manifest["repository"]["url"] and manifest["categories"] and manifest["keywords"]
    scripts = manifest["scripts"]
    assert "bundle-server" in scripts["vscode:prepublish"]
    for flag in ("--skip-license", "--allow-missing-repository"):
        assert flag not in scripts["package"]
    for image in re.findall(r"\]\((images/[^)]+)\)", (VSCODE / "README.md").read_text()):
        assert (VSCODE / image).exists(), image


def test_vscode_readme_names_only_real_settings_and_commands() -> None:
    manifest = vscode_manifest()
    readme = (VSCODE / "README.md").read_text(encoding="utf-8")
    properties = manifest["contributes"]["configuration"]["properties"]
    for name in re.findall(r"`(geminiLsp\.[\w.]+)`", readme):
        assert name in properties, name
    for command in manifest["contributes"]["commands"]:
        if command["command"].startswith("geminiLsp.") and command.get("category") == "Gemini":
            assert f"Gemini: {command['title']}" in readme, command["title"]
