"""The names clients rely on stay in step: command ids and settings, server and plugins."""

from __future__ import annotations

import json
import re
from pathlib import Path

import attrs

from gemini_lsp.arguments import COMMANDS
from gemini_lsp.config import SETTING_NAMES, SPECS, Settings

ROOT = Path(__file__).resolve().parents[1]
# VS Code keeps the key in its secret storage, never in settings.json.
NOT_IN_VSCODE = {"apiKey"}


def vscode_settings() -> dict[str, dict[str, object]]:
    package = json.loads((ROOT / "editors/vscode/package.json").read_text(encoding="utf-8"))
    properties = package["contributes"]["configuration"]["properties"]
    return {
        name.removeprefix("geminiLsp."): spec
        for name, spec in properties.items()
        if not name.startswith("geminiLsp.server.")
    }


def test_vscode_settings_mirror_the_server() -> None:
    assert set(vscode_settings()) == set(SETTING_NAMES) - NOT_IN_VSCODE


def test_vscode_defaults_match_the_server() -> None:
    defaults = {spec.name: getattr(Settings(), spec.attribute) for spec in SPECS}
    for name, spec in vscode_settings().items():
        if "default" in spec and spec["default"] is not None:
            assert spec["default"] == defaults[name], name
        assert spec.get("description") or spec.get("markdownDescription"), name


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in SETTING_NAMES:
        assert f"`{name}`" in readme, name
    assert {f.name for f in attrs.fields(Settings)} == {spec.attribute for spec in SPECS}


def test_neovim_plugin_knows_the_server_commands() -> None:
    config = (ROOT / "editors/nvim/lua/gemini_lsp/config.lua").read_text(encoding="utf-8")
    block = config[config.index("M.server_commands") :].split("}")[0]
    assert re.findall(r"'(gemini\.\w+)'", block) == list(COMMANDS)


def test_vscode_palette_commands_do_not_clash_with_server_commands() -> None:
    package = json.loads((ROOT / "editors/vscode/package.json").read_text(encoding="utf-8"))
    palette = {command["command"] for command in package["contributes"]["commands"]}
    assert not palette & set(COMMANDS)
