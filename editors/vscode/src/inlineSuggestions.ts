// Inline suggestions: the server answers LSP inline completions, and the language client shows
// them as ghost text (Tab accepts; the editor's own "Accept Next Word" takes one word at a
// time). This is the status bar item that turns them on and off, through the setting
// geminiLsp.inlineCompletion.enabled, which the server applies as soon as it changes.
import * as vscode from 'vscode';
import { SECTION } from './protocol';

export const TOGGLE_INLINE = 'geminiLsp.toggleInlineSuggestions';
const ENABLED = 'inlineCompletion.enabled';

export class InlineSuggestionsToggle implements vscode.Disposable {
    private readonly item = vscode.window.createStatusBarItem('geminiLsp.inline', vscode.StatusBarAlignment.Right, 100);
    private readonly disposables: vscode.Disposable[];

    constructor() {
        this.item.name = 'Gemini Inline Suggestions';
        this.item.command = TOGGLE_INLINE;
        this.disposables = [
            this.item,
            vscode.commands.registerCommand(TOGGLE_INLINE, () => this.toggle()),
            vscode.workspace.onDidChangeConfiguration((event) => {
                if (event.affectsConfiguration(`${SECTION}.${ENABLED}`)) this.render();
            }),
        ];
        this.render();
        this.item.show();
    }

    private enabled(): boolean {
        return vscode.workspace.getConfiguration(SECTION).get<boolean>(ENABLED, true);
    }

    private render(): void {
        const on = this.enabled();
        this.item.text = on ? '$(sparkle) Gemini' : '$(circle-slash) Gemini';
        this.item.tooltip = on
            ? 'Gemini inline suggestions: on (Tab accepts). Click to turn them off.'
            : 'Gemini inline suggestions: off. Click to turn them on.';
    }

    /** Flips the setting where it is set: the workspace's value if it has one, else the user's. */
    private async toggle(): Promise<void> {
        const config = vscode.workspace.getConfiguration(SECTION);
        const inspected = config.inspect<boolean>(ENABLED);
        const target =
            inspected?.workspaceValue !== undefined
                ? vscode.ConfigurationTarget.Workspace
                : vscode.ConfigurationTarget.Global;
        await config.update(ENABLED, !this.enabled(), target);
    }

    dispose(): void {
        for (const disposable of this.disposables) disposable.dispose();
    }
}
