// Asks for a prompt. The box opens with the last prompt selected (type to replace it, Enter to
// reuse it) and a button lists the recent ones. An input box rather than a quick pick: a quick
// pick filters its items while the extension host is still catching up with the typing, so a
// fast Enter could accept a recent prompt instead of the one just typed.
import * as vscode from 'vscode';

const KEY = 'geminiLsp.recentPrompts';
const KEEP = 20;

export interface PromptRequest {
    title: string;
    /** The question under the box. */
    prompt: string;
    placeholder?: string;
}

export class PromptInput {
    constructor(private readonly state: vscode.Memento) {}

    recent(): string[] {
        return this.state.get<string[]>(KEY, []);
    }

    async ask(request: PromptRequest): Promise<string | undefined> {
        const answer = await this.show(request);
        const prompt = answer?.trim();
        if (!prompt) return undefined;
        await this.state.update(KEY, [prompt, ...this.recent().filter((p) => p !== prompt)].slice(0, KEEP));
        return prompt;
    }

    private show(request: PromptRequest): Promise<string | undefined> {
        const recent = this.recent();
        const box = vscode.window.createInputBox();
        box.title = request.title;
        box.prompt = request.prompt;
        box.placeholder = request.placeholder ?? '';
        box.ignoreFocusOut = true;
        box.value = recent[0] ?? '';
        box.valueSelection = [0, box.value.length];
        const history: vscode.QuickInputButton = {
            iconPath: new vscode.ThemeIcon('history'),
            tooltip: 'Recent prompts',
        };
        if (recent.length > 0) box.buttons = [history];

        return new Promise((resolve) => {
            let settled = false;
            const finish = (value: string | undefined) => {
                if (settled) return;
                settled = true;
                resolve(value);
                box.dispose();
            };
            box.onDidAccept(() => finish(box.value));
            box.onDidHide(() => finish(undefined));
            box.onDidTriggerButton(async () => {
                // Showing the list hides the box; settle only after the list answers.
                settled = true;
                const picked = await vscode.window.showQuickPick(recent, {
                    title: request.title,
                    placeHolder: 'Recent prompts',
                });
                settled = false;
                if (picked === undefined) return finish(undefined);
                box.value = picked;
                box.valueSelection = [picked.length, picked.length];
                box.show();
            });
            box.show();
        });
    }
}
