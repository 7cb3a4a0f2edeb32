// The server bundled with the extension: its wheel (server/*.whl in the .vsix) installed on
// first use into a virtual environment under the extension's global storage, which belongs to
// the user, never to a workspace. Everything here runs with the user's own Python and in a
// folder of the extension's, so a workspace cannot change what runs.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

/** The server cannot be set up; the message says what to do about it. */
export class SetupFailed extends Error {}

const MIN_PYTHON: [number, number] = [3, 10];
const STAMP = 'installed.json';
const LOCK_STALE_MS = 15 * 60_000;
const PIP_TIMEOUT_MS = 10 * 60_000;

interface Stamp {
    wheel: string;
    sha256: string;
    python: string;
}

export class ManagedServer {
    constructor(
        private readonly extensionPath: string,
        /** The folder of the extension's global storage; created on demand. */
        private readonly storage: string,
        private readonly log: vscode.LogOutputChannel,
    ) {}

    /** The folder every server process (probe, install, launch) runs in: never a workspace. */
    get workingDirectory(): string {
        fs.mkdirSync(this.storage, { recursive: true });
        return this.storage;
    }

    private get environment(): string {
        return path.join(this.storage, 'server-env');
    }

    /** The gemini-lsp executable of the managed environment, created first if needed. */
    async executable(): Promise<string> {
        const wheel = this.bundledWheel();
        const sha256 = createHash('sha256').update(fs.readFileSync(wheel)).digest('hex');
        const executable = path.join(
            this.environment,
            process.platform === 'win32' ? 'Scripts/gemini-lsp.exe' : 'bin/gemini-lsp',
        );
        if (this.installed()?.sha256 === sha256 && fs.existsSync(executable)) return executable;
        await this.withLock(async () => {
            // Another window may have finished it while we waited for the lock.
            if (this.installed()?.sha256 === sha256 && fs.existsSync(executable)) return;
            await vscode.window.withProgress(
                {
                    location: vscode.ProgressLocation.Notification,
                    title: 'Gemini LSP: setting up its language server (once)',
                },
                (progress) => this.install(wheel, sha256, progress),
            );
        });
        return executable;
    }

    private bundledWheel(): string {
        const folder = path.join(this.extensionPath, 'server');
        const wheels = fs.existsSync(folder) ? fs.readdirSync(folder).filter((f) => f.endsWith('.whl')) : [];
        if (wheels.length === 0) {
            throw new SetupFailed(
                'Gemini LSP: this copy of the extension carries no server. Set geminiLsp.server.command to a ' +
                    'gemini-lsp you installed (for example with "pipx install gemini-lsp").',
            );
        }
        return path.join(folder, wheels.sort().pop()!);
    }

    private installed(): Stamp | undefined {
        try {
            return JSON.parse(fs.readFileSync(path.join(this.environment, STAMP), 'utf8')) as Stamp;
        } catch {
            return undefined;
        }
    }

    private async install(
        wheel: string,
        sha256: string,
        progress: vscode.Progress<{ message?: string }>,
    ): Promise<void> {
        const started = Date.now();
        progress.report({ message: 'looking for Python…' });
        const python = await this.findPython();
        progress.report({ message: `creating a Python environment (${python.version})…` });
        fs.rmSync(this.environment, { recursive: true, force: true });
        await this.run(
            python.command,
            ['-m', 'venv', this.environment],
            120_000,
            (problem) =>
                `Gemini LSP could not create a Python environment with ${python.command}: ${problem}. ` +
                'On Debian or Ubuntu, install the venv module ("sudo apt install python3-venv"), then run "Gemini: Restart Server".',
        );
        const venvPython = path.join(
            this.environment,
            process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python',
        );
        progress.report({ message: 'installing the server and its dependencies…' });
        await this.run(
            venvPython,
            ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', wheel],
            PIP_TIMEOUT_MS,
            (problem) =>
                `Gemini LSP could not install its server: pip could not get its dependencies (${problem}). ` +
                'It needs the Python package index once: connect to the network (or configure pip to use a ' +
                'mirror) and run "Gemini: Restart Server", or set geminiLsp.server.command to a gemini-lsp you installed.',
        );
        const stamp: Stamp = { wheel: path.basename(wheel), sha256, python: python.version };
        fs.writeFileSync(path.join(this.environment, STAMP), JSON.stringify(stamp));
        this.log.info(
            `Set up the server ${stamp.wheel} with Python ${python.version} in ${this.environment} ` +
                `(${((Date.now() - started) / 1000).toFixed(1)} s)`,
        );
    }

    /** python3, then python (py -3 on Windows): the first that is new enough and has venv. */
    private async findPython(): Promise<{ command: string; version: string }> {
        const candidates = process.platform === 'win32' ? [['py', '-3'], ['python']] : [['python3'], ['python']];
        const check =
            'import sys, venv, ensurepip; print("%d.%d.%d" % sys.version_info[:3]); ' +
            `sys.exit(0 if sys.version_info >= (${MIN_PYTHON.join(', ')}) else 3)`;
        const tried: string[] = [];
        for (const [command, ...args] of candidates) {
            const result = await execute(command!, [...args, '-c', check], this.workingDirectory, 20_000);
            const version = result.stdout.trim();
            if (result.ok && args.length === 0) return { command: command!, version };
            if (result.ok) {
                // `py -3` is a launcher: ask it for the interpreter it runs.
                const exe = await execute(
                    command!,
                    [...args, '-c', 'import sys; print(sys.executable)'],
                    this.workingDirectory,
                    20_000,
                );
                if (exe.ok) return { command: exe.stdout.trim(), version };
            }
            tried.push(`${[command, ...args].join(' ')}: ${version ? `Python ${version}` : result.problem}`);
        }
        throw new SetupFailed(
            `Gemini LSP needs Python ${MIN_PYTHON.join('.')} or newer (with its venv module) to set up its server, ` +
                `and found none (${tried.join('; ')}). Install Python from python.org or your system's packages, ` +
                'then run "Gemini: Restart Server"; or set geminiLsp.server.command to a gemini-lsp you installed.',
        );
    }

    private async run(
        command: string,
        args: string[],
        timeout: number,
        explain: (problem: string) => string,
    ): Promise<void> {
        this.log.info(`Running ${[command, ...args].join(' ')}`);
        const result = await execute(command, args, this.workingDirectory, timeout);
        if (result.stderr.trim()) this.log.info(result.stderr.trim());
        if (!result.ok) throw new SetupFailed(explain(result.problem));
    }

    /** One window sets up at a time; the others wait for it and then use its environment. */
    private async withLock(work: () => Promise<void>): Promise<void> {
        const lock = path.join(this.workingDirectory, 'server-env.lock');
        for (;;) {
            try {
                fs.mkdirSync(lock);
                break;
            } catch (error) {
                if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
                const since = fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
                if (since === undefined) continue;
                if (Date.now() - since > LOCK_STALE_MS) fs.rmSync(lock, { recursive: true, force: true });
                else await new Promise((resolve) => setTimeout(resolve, 500));
            }
        }
        try {
            await work();
        } finally {
            fs.rmSync(lock, { recursive: true, force: true });
        }
    }
}

export interface Execution {
    ok: boolean;
    stdout: string;
    stderr: string;
    /** Why it failed: the last line of its error output, or the error itself. */
    problem: string;
}

/** Runs a program (no shell) in a given folder, by default with the extension's environment. */
export function execute(
    command: string,
    args: string[],
    cwd: string,
    timeout: number,
    env: NodeJS.ProcessEnv = process.env,
): Promise<Execution> {
    return new Promise((resolve) => {
        execFile(command, args, { cwd, env, timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
            const problem = error ? stderr.trim().split('\n').pop() || error.message : '';
            resolve({ ok: !error, stdout, stderr, problem });
        });
    });
}
