// In a remote window (VS Code Remote, code-server), VS Code means machine-scoped settings to
// come from the Remote settings, and ignores them in the User settings (in code-server it does
// so or not depending on start-up timing). Find the ones set only in the User settings and say
// where they belong. What the extension host reports tells most of it: VS Code passes
// `globalLocalValue`/`globalRemoteValue` beside the public fields; where it dropped the value
// altogether, the User settings file itself does (code-server keeps it next to the
// extension's storage, on the machine the extension runs on).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { MACHINE_SETTINGS } from './settings';

type Inspected = { globalValue?: unknown; globalLocalValue?: unknown; globalRemoteValue?: unknown } | undefined;

export function ignoredUserSettings(globalStorage: string): string[] {
    if (vscode.env.remoteName === undefined) return [];
    const userFile = userSettingsText(globalStorage);
    return MACHINE_SETTINGS.filter((name) => {
        const [section, ...rest] = name.split('.');
        const inspected: Inspected = vscode.workspace.getConfiguration(section).inspect(rest.join('.'));
        if (inspected?.globalRemoteValue !== undefined) return false;
        if (inspected?.globalLocalValue !== undefined) return true;
        const key = new RegExp(`"${name.replace(/\./g, '\\.')}"\\s*:`);
        return inspected?.globalValue === undefined && key.test(userFile);
    });
}

/** <user data>/User/globalStorage/<extension id> -> <user data>/User/settings.json, comments removed. */
function userSettingsText(globalStorage: string): string {
    try {
        const text = fs.readFileSync(path.join(path.dirname(path.dirname(globalStorage)), 'settings.json'), 'utf8');
        // A commented-out setting is not set.
        return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    } catch {
        return '';
    }
}

/** Tells (once per window) which User settings this remote window ignores, and where they go. */
export async function warnAboutIgnoredUserSettings(globalStorage: string, log: vscode.LogOutputChannel): Promise<void> {
    const ignored = ignoredUserSettings(globalStorage);
    if (ignored.length === 0) return;
    const them = ignored.length > 1 ? 'them' : 'it';
    const message =
        `Gemini LSP: ${ignored.join(', ')} ${ignored.length > 1 ? 'are' : 'is'} set in your User settings. ` +
        `In a remote window (here ${vscode.env.remoteName}) VS Code reads machine settings from the ` +
        `Remote settings and may ignore ${them} there: put ${them} in the Remote settings ("Preferences: Open Remote Settings").`;
    log.warn(message);
    const choice = await vscode.window.showWarningMessage(message, 'Open Remote Settings');
    if (choice) await vscode.commands.executeCommand('workbench.action.openRemoteSettings');
}
