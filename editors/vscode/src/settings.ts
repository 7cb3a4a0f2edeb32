// Settings: the server's `geminiLsp.*` settings, sent as one object, and the extension's own
// `geminiLsp.server.*`, which only decide how the server is started. The server's names come
// from protocol.ts (generated from the server's contract); it warns about any other key.
import * as vscode from 'vscode';
import { SECTION, SERVER_MACHINE_SETTINGS, SERVER_SETTINGS } from './protocol';

const LAUNCH_MACHINE_SETTINGS = ['geminiLsp.server.command', 'geminiLsp.server.python'] as const;

/**
 * Settings that name an executable or an endpoint (the key goes there): machine-scoped in
 * package.json, so only User or Remote settings set them, never a workspace.
 */
export const MACHINE_SETTINGS = [...LAUNCH_MACHINE_SETTINGS, ...SERVER_MACHINE_SETTINGS] as const;

export type ServerSettings = Record<(typeof SERVER_SETTINGS)[number], unknown>;

/**
 * The `geminiLsp` object for the server. Unset values are sent as null, which the server
 * reads as "use the default": a setting the user removes must also be removed there.
 */
export function serverSettings(scope?: vscode.ConfigurationScope): ServerSettings {
    const config = vscode.workspace.getConfiguration(SECTION, scope);
    const settings = {} as ServerSettings;
    for (const name of SERVER_SETTINGS) {
        settings[name] = config.get(name) ?? null;
    }
    return settings;
}

export interface LaunchSettings {
    /** geminiLsp.server.command as argv, if set. */
    command: string[] | undefined;
    python: string | undefined;
}

export function launchSettings(): LaunchSettings {
    const config = vscode.workspace.getConfiguration(`${SECTION}.server`);
    const command = config.get<string[] | string | null>('command');
    const python = config.get<string | null>('python');
    return {
        command: typeof command === 'string' ? splitCommand(command) : nonEmpty(command),
        python: python || undefined,
    };
}

/** Changes that need a new server process rather than a didChangeConfiguration. */
export function needsRestart(event: vscode.ConfigurationChangeEvent): boolean {
    return event.affectsConfiguration(`${SECTION}.server`);
}

export function affectsServerSettings(event: vscode.ConfigurationChangeEvent): boolean {
    return SERVER_SETTINGS.some((name) => event.affectsConfiguration(`${SECTION}.${name}`));
}

function nonEmpty(argv: string[] | null | undefined): string[] | undefined {
    return argv && argv.length > 0 ? argv : undefined;
}

/** A command line as a string: split on blanks, honouring simple single or double quotes. */
export function splitCommand(line: string): string[] | undefined {
    const words = [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
    return nonEmpty(words);
}
