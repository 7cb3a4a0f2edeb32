"""The names clients rely on stay in step: command ids and settings, server and plugins."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import attrs

from gemini_lsp.config import SETTING_NAMES, SPECS, Settings
from gemini_lsp.lsp.arguments import COMMANDS

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
    # The extension's own list (the Remote settings hint) and the test harness's agree.
    source = (VSCODE / "src/settings.ts").read_text(encoding="utf-8")
    block = source[source.index("MACHINE_SETTINGS =") :].split(";")[0]
    assert set(re.findall(r"'(geminiLsp\.[\w.]+)'", block)) == VSCODE_MACHINE_SETTINGS
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
