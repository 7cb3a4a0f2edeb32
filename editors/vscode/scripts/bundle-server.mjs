// Builds the language server's wheel from this checkout into server/, where the extension
// finds it at run time and installs it into an environment of its own on first use.
// Run by `vscode:prepublish`, so `vsce package` alone makes a .vsix that carries the server.
//
// Python: $GEMINI_LSP_PYTHON, else the checkout's .venv, else python3 on PATH. It needs the
// `build` package (`pip install build`); the project's `make venv` installs it.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const extension = path.resolve(here, '..');
const repo = path.resolve(extension, '..', '..');
const target = path.join(extension, 'server');

function python() {
    if (process.env.GEMINI_LSP_PYTHON) return process.env.GEMINI_LSP_PYTHON;
    const venv = path.join(repo, '.venv', process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');
    return fs.existsSync(venv) ? venv : 'python3';
}

const started = Date.now();
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gemini-lsp-wheel-'));
try {
    execFileSync(python(), ['-m', 'build', '--wheel', '--outdir', out, repo], {
        cwd: repo,
        stdio: ['ignore', 'ignore', 'inherit'],
    });
    const wheels = fs.readdirSync(out).filter((name) => /^gemini_lsp-.+\.whl$/.test(name));
    if (wheels.length !== 1) throw new Error(`expected one gemini_lsp wheel, found: ${wheels.join(', ') || 'none'}`);
    fs.rmSync(target, { recursive: true, force: true });
    fs.mkdirSync(target);
    fs.copyFileSync(path.join(out, wheels[0]), path.join(target, wheels[0]));
    console.log(`bundle-server: server/${wheels[0]} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
    fs.rmSync(out, { recursive: true, force: true });
}
