"""The plugin installed the ways people install Neovim plugins, each in a real Neovim
(headless, isolated XDG folders): `:Gemini` exists and `:help gemini_lsp` opens.

lazy.nvim itself is on no package registry this project can use, so its tests reproduce
what it does at start-up: it turns Neovim's own plugin loading off ('loadplugins'), puts
each plugin's folder on 'runtimepath', sources the plugin/ files of that folder itself, and
then runs the spec's `config`. A git spec's folder is the repository root, so the usual
spec appends editors/nvim to 'runtimepath' in `config`, and nothing sources its plugin/:
`setup()` loads the commands for that reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.editor

NVIM = Path(sys.executable).parent / "nvim"
PLUGIN = Path(__file__).resolve().parents[3] / "editors" / "nvim"

REPORT = """
local report = { commands = vim.fn.exists(':Gemini') == 2 }
report.help = pcall(vim.cmd.help, 'gemini_lsp')
report.help_file = vim.api.nvim_buf_get_name(0)
report.filetype = vim.bo.filetype
report.messages = vim.fn.execute('messages')
vim.fn.writefile({ vim.json.encode(report) }, vim.env.REPORT_FILE)
vim.cmd('qall!')
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the repository's plugin folder (so that help tags are built there, not in
    the tree), inside something that looks like a checkout."""
    root = tmp_path / "gemini-lsp"
    shutil.copytree(PLUGIN, root / "editors" / "nvim", ignore=shutil.ignore_patterns("tags"))
    (root / "Makefile").write_text("install:\n")
    (root / "pyproject.toml").write_text("")
    (root / "gemini_lsp").mkdir()
    return root


def run_nvim(tmp_path: Path, init: str, *, no_plugins: bool = False) -> dict[str, object]:
    home = tmp_path / "home"
    env = {
        "PATH": "/usr/bin:/bin",  # no gemini-lsp here
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "REPORT_FILE": str(tmp_path / "report.json"),
    }
    (tmp_path / "init.lua").write_text(init)
    (tmp_path / "report.lua").write_text(REPORT)
    command = [str(NVIM), "--headless", "-n", "-i", "NONE", "-u", str(tmp_path / "init.lua")]
    if no_plugins:
        command.append("--noplugin")
    subprocess.run(
        [*command, "-c", f"luafile {tmp_path / 'report.lua'}"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=False,
    )
    result: dict[str, object] = json.loads((tmp_path / "report.json").read_text())
    return result


def assert_installed(report: dict[str, object]) -> None:
    assert report["commands"], report
    assert report["help"], report
    assert report["filetype"] == "help"
    assert str(report["help_file"]).endswith("gemini_lsp.txt")


def test_lazy_nvim_git_spec_with_the_subfolder(tmp_path: Path, checkout: Path) -> None:
    # { 'gemini-lsp/gemini-lsp', config = function(plugin)
    #     vim.opt.rtp:append(plugin.dir .. '/editors/nvim')
    #     require('gemini_lsp').setup() end }
    init = f"""
vim.go.loadplugins = false                        -- lazy.nvim loads plugins itself
local plugin = {{ dir = {json.dumps(str(checkout))} }}
vim.opt.rtp:prepend(plugin.dir)                   -- the repository root
-- the spec's config:
vim.opt.rtp:append(plugin.dir .. '/editors/nvim')
vim.g.before_setup = vim.fn.exists(':Gemini')
require('gemini_lsp').setup()
"""
    report = run_nvim(tmp_path, init)
    assert_installed(report)
    assert (checkout / "editors" / "nvim" / "doc" / "tags").exists()
    # Without setup() nothing defines the commands in this install: that is why it does.
    assert "gemini-lsp` not found" in str(report["messages"])


def test_lazy_nvim_local_dir_spec(tmp_path: Path, checkout: Path) -> None:
    # { dir = '~/src/gemini-lsp/editors/nvim', config = function() ... setup() end }
    init = f"""
vim.go.loadplugins = false
local dir = {json.dumps(str(checkout / "editors" / "nvim"))}
vim.opt.rtp:prepend(dir)
for _, file in ipairs(vim.fn.glob(dir .. '/plugin/**/*.lua', false, true)) do
  vim.cmd.source(file)                            -- lazy.nvim sources plugin/ of `dir`
end
assert(vim.fn.exists(':Gemini') == 2)
"""
    assert_installed(run_nvim(tmp_path, init))


def test_vim_plug_rtp_option(tmp_path: Path, checkout: Path) -> None:
    # Plug '~/src/gemini-lsp', { 'rtp': 'editors/nvim' }: plug#end() adds the subfolder to
    # 'runtimepath' before Neovim loads plugins. A stale tags file is rebuilt.
    doc = checkout / "editors" / "nvim" / "doc"
    (doc / "tags").write_text("")
    old = (doc / "gemini_lsp.txt").stat().st_mtime - 3600  # older than the help it indexes
    os.utime(doc / "tags", (old, old))
    init = f"vim.opt.rtp:prepend({json.dumps(str(checkout / 'editors' / 'nvim'))})\n"
    assert_installed(run_nvim(tmp_path, init))
    assert "gemini_lsp-setup" in (doc / "tags").read_text()


def test_native_package_in_pack_start(tmp_path: Path, checkout: Path) -> None:
    start = tmp_path / "home" / ".local" / "share" / "nvim" / "site" / "pack" / "gemini" / "start"
    start.mkdir(parents=True)
    (start / "gemini-lsp").symlink_to(checkout / "editors" / "nvim")
    assert_installed(run_nvim(tmp_path, "-- nothing: packages load themselves\n"))


@pytest.mark.timeout(180)
def test_a_missing_server_names_the_command_that_installs_it(
    tmp_path: Path, checkout: Path
) -> None:
    plugin = checkout / "editors" / "nvim"
    init = f"""
vim.opt.rtp:prepend({json.dumps(str(plugin))})
require('gemini_lsp').setup()
vim.cmd('checkhealth gemini_lsp')
vim.fn.writefile(vim.api.nvim_buf_get_lines(0, 0, -1, false), vim.env.REPORT_FILE .. '.health')
"""
    report = run_nvim(tmp_path, init)
    advice = f"cd {checkout} && make install"
    assert advice in str(report["messages"])
    assert advice in (tmp_path / "report.json.health").read_text()

    # Not in a checkout (a copy of the plugin alone): the package index.
    for name in ("Makefile", "pyproject.toml"):
        (checkout / name).unlink()
    report = run_nvim(tmp_path, init)
    assert "pipx install gemini-lsp" in str(report["messages"])
    assert "pipx install gemini-lsp" in (tmp_path / "report.json.health").read_text()
