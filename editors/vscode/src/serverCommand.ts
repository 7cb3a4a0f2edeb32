// Finds the command that starts the language server: the configured command, else
// `python -m gemini_lsp` with the first interpreter that can import gemini_lsp.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { launchSettings } from './settings';

export interface ServerCommand {
    command: string;
    args: string[];
    /** Where it came from, for the log. */
    origin: string;
}

/** No way to start the server; the message says what to do about it. */
export class ServerNotFound extends Error {}

export async function findServerCommand(log: vscode.LogOutputChannel): Promise<ServerCommand> {
    const settings = launchSettings();
    if (settings.command) {
        const [command, ...args] = settings.command.map(expandVariables);
        return { command: command!, args, origin: 'geminiLsp.server.command' };
    }
    if (settings.python) {
        const python = expandVariables(settings.python);
        const problem = await probe(python, ['-c', 'import gemini_lsp']);
        if (problem) {
            throw new ServerNotFound(
                `The interpreter in geminiLsp.server.python (${python}) cannot run gemini_lsp: ${problem}. ` +
                    'Install it there with "python -m pip install gemini-lsp", or change the setting.',
            );
        }
        return { command: python, args: ['-m', 'gemini_lsp'], origin: 'geminiLsp.server.python' };
    }
    for (const python of candidateInterpreters()) {
        const problem = await probe(python, ['-c', 'import gemini_lsp']);
        if (!problem) {
            return { command: python, args: ['-m', 'gemini_lsp'], origin: `discovered interpreter ${python}` };
        }
        log.debug(`${python} cannot import gemini_lsp: ${problem}`);
    }
    if (!(await probe('gemini-lsp', ['--version']))) {
        return { command: 'gemini-lsp', args: [], origin: 'gemini-lsp on PATH' };
    }
    throw new ServerNotFound(
        'Gemini LSP cannot find its language server. Install it with "python -m pip install gemini-lsp" ' +
            'and set geminiLsp.server.python to that Python interpreter (or geminiLsp.server.command ' +
            'to the gemini-lsp executable).',
    );
}

/** Workspace virtual environments first, then the Python extension's choice, then PATH. */
function candidateInterpreters(): string[] {
    const bin = process.platform === 'win32' ? path.join('Scripts', 'python.exe') : path.join('bin', 'python');
    const candidates: string[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
        for (const venv of ['.venv', 'venv', 'env']) {
            const python = path.join(folder.uri.fsPath, venv, bin);
            if (fs.existsSync(python)) candidates.push(python);
        }
    }
    const fromPython = vscode.workspace.getConfiguration('python').get<string>('defaultInterpreterPath');
    if (fromPython && fromPython !== 'python') candidates.push(expandVariables(fromPython));
    candidates.push(process.platform === 'win32' ? 'python' : 'python3', 'python');
    return [...new Set(candidates)];
}

/** Runs a quick check; answers undefined when it succeeded, else why it did not. */
function probe(command: string, args: string[]): Promise<string | undefined> {
    return new Promise((resolve) => {
        execFile(command, args, { timeout: 15_000 }, (error, _stdout, stderr) => {
            if (!error) resolve(undefined);
            else resolve(lastLine(stderr) || error.message);
        });
    });
}

function lastLine(text: string): string {
    return text.trim().split('\n').pop() ?? '';
}

/** `${workspaceFolder}` and `~` as users write them in settings. */
function expandVariables(value: string): string {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    const home = process.env.HOME ?? process.env.USERPROFILE ?? '';
    return value.replace(/\$\{workspaceFolder\}/g, folder).replace(/^~(?=$|[\\/])/, home);
}
