// How the language server process is launched, from user-level configuration only:
// geminiLsp.server.command, else `python -m gemini_lsp` with geminiLsp.server.python, else the
// server bundled with the extension (ManagedServer). Both settings are machine-scoped, so a
// workspace's .vscode/settings.json cannot set them, and nothing is looked up in a workspace
// (no .venv, no interpreter setting of another extension). Probe and launch use the same
// interpreter, working directory (the extension's storage, never a workspace folder, where
// `python -m` would import a package of the workspace) and environment.
import * as vscode from 'vscode';
import { execute, type ManagedServer, SetupFailed } from './managedServer';
import { launchSettings } from './settings';

/** The process to start: executable, arguments and folder. */
export interface ServerLaunch {
    command: string;
    args: string[];
    /** The folder it runs in. */
    cwd: string;
    /** Where it came from, for the log. */
    origin: string;
}

/** No way to start the server; the message says what to do about it. */
export class ServerNotFound extends Error {}

const WORKSPACE_VARIABLE = /\$\{workspaceFolder\}/;

export async function findServerLaunch(managed: ManagedServer, env: NodeJS.ProcessEnv): Promise<ServerLaunch> {
    const settings = launchSettings();
    const cwd = managed.workingDirectory;
    if (settings.command) {
        const [command, ...args] = settings.command.map((word) => expandVariables(word, 'geminiLsp.server.command'));
        return { command: command!, args, cwd, origin: 'geminiLsp.server.command' };
    }
    if (settings.python) {
        const python = expandVariables(settings.python, 'geminiLsp.server.python');
        const probe = await execute(python, ['-c', 'import gemini_lsp'], cwd, 15_000, env);
        if (!probe.ok) {
            throw new ServerNotFound(
                `The interpreter in geminiLsp.server.python (${python}) cannot run gemini_lsp: ${probe.problem}. ` +
                    `Install it there with "${python} -m pip install gemini-lsp", or remove the setting to use ` +
                    'the server that comes with the extension.',
            );
        }
        return { command: python, args: ['-m', 'gemini_lsp'], cwd, origin: 'geminiLsp.server.python' };
    }
    try {
        const executable = await managed.executable();
        return { command: executable, args: [], cwd, origin: 'the bundled server' };
    } catch (error) {
        if (error instanceof SetupFailed) throw new ServerNotFound(error.message);
        throw error;
    }
}

/**
 * `${workspaceFolder}` and `~` as users write them in settings. A user-level command that
 * points into the workspace would run the workspace's code, so in Restricted Mode it is refused.
 */
function expandVariables(value: string, setting: string): string {
    if (WORKSPACE_VARIABLE.test(value) && !vscode.workspace.isTrusted) {
        throw new ServerNotFound(
            `Gemini LSP does not start ${setting} here: it points into this workspace ("${value}"), and the ` +
                'workspace is in Restricted Mode. Trust the workspace, or use a command outside it.',
        );
    }
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    const home = process.env.HOME ?? process.env.USERPROFILE ?? '';
    return value.replace(/\$\{workspaceFolder\}/g, folder).replace(/^~(?=$|[\\/])/, home);
}
