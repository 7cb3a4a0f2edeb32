// The Gemini API key lives in VS Code's secret storage, never in settings.json or a log,
// and reaches the server as GEMINI_API_KEY in its environment.
import * as vscode from 'vscode';

const SECRET = 'geminiLsp.apiKey';

export class ApiKey {
    constructor(private readonly secrets: vscode.SecretStorage) {}

    get(): Thenable<string | undefined> {
        return this.secrets.get(SECRET);
    }

    onDidChange(listener: () => unknown): vscode.Disposable {
        return this.secrets.onDidChange((event) => {
            if (event.key === SECRET) listener();
        });
    }

    /** Asks for the key; an empty answer removes the stored one. */
    async ask(): Promise<void> {
        const value = await vscode.window.showInputBox({
            title: 'Gemini API Key',
            prompt: "Kept in VS Code's secret storage. Leave empty to remove the stored key (GEMINI_API_KEY from the environment is used then).",
            password: true,
            ignoreFocusOut: true,
        });
        if (value === undefined) return;
        if (value.trim() === '') {
            await this.secrets.delete(SECRET);
            void vscode.window.showInformationMessage('Gemini: API key removed.');
        } else {
            await this.secrets.store(SECRET, value.trim());
            void vscode.window.showInformationMessage('Gemini: API key saved.');
        }
    }

    /** The server's environment: ours, with the stored key if there is one. */
    async environment(): Promise<NodeJS.ProcessEnv> {
        const key = await this.get();
        return key ? { ...process.env, GEMINI_API_KEY: key } : { ...process.env };
    }
}
