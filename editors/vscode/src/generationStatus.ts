// Shows what is streaming: a status bar item with the server's progress (click to stop), and
// the `geminiLsp.generating` context key that lets Escape cancel in the editor it writes to.
import * as vscode from 'vscode';
import type { Generations, Outcome } from './generations';

export const GENERATING_CONTEXT = 'geminiLsp.generating';
const SHOW_OUTCOME_MS = 6000;

export class GenerationStatus implements vscode.Disposable {
    private readonly item = vscode.window.createStatusBarItem('geminiLsp.status', vscode.StatusBarAlignment.Left, 1000);
    private readonly subscriptions: vscode.Disposable[] = [];
    private outcomeTimer: ReturnType<typeof setTimeout> | undefined;
    private generating = false;

    constructor(private readonly generations: Generations) {
        this.item.name = 'Gemini';
        this.subscriptions.push(
            generations.onDidChange(() => this.update()),
            generations.onDidEnd((outcome) => this.showOutcome(outcome)),
            vscode.window.onDidChangeActiveTextEditor(() => this.update()),
        );
        void vscode.commands.executeCommand('setContext', GENERATING_CONTEXT, false);
    }

    private update(): void {
        const running = this.generations.all();
        const uri = vscode.window.activeTextEditor?.document.uri.toString();
        const here = uri !== undefined && this.generations.inDocument(uri).length > 0;
        if (here !== this.generating) {
            this.generating = here;
            void vscode.commands.executeCommand('setContext', GENERATING_CONTEXT, here);
        }
        if (running.length === 0) {
            if (this.outcomeTimer === undefined) this.item.hide();
            return;
        }
        this.clearOutcome();
        const latest = running[running.length - 1]!;
        const more = running.length > 1 ? ` (+${running.length - 1})` : '';
        this.item.text = `$(loading~spin) ${latest.title}: ${latest.message}${more}`;
        this.item.tooltip = 'Gemini is writing. Click, or press Escape in the editor, to stop it.';
        this.item.command = 'geminiLsp.cancel';
        this.item.backgroundColor = undefined;
        this.item.show();
    }

    /** Leaves the outcome ("42 lines in 2.3 s", "Cancelled", "Failed: …") up for a moment. */
    private showOutcome({ generation, result, error }: Outcome): void {
        if (this.generations.all().length > 0) return;
        if (error !== undefined) {
            this.item.text = '$(error) Gemini: failed';
            this.item.tooltip = error;
            this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        } else {
            const icon = result?.status === 'completed' ? '$(check)' : '$(circle-slash)';
            this.item.text = `${icon} ${generation.title}: ${result ? generation.message : 'stopped'}`;
            this.item.tooltip = result ? `${result.model} · ${result.status}` : undefined;
            this.item.backgroundColor = undefined;
        }
        this.item.command = 'geminiLsp.showOutput';
        this.item.show();
        this.clearOutcome();
        this.outcomeTimer = setTimeout(() => {
            this.outcomeTimer = undefined;
            this.update();
        }, SHOW_OUTCOME_MS);
    }

    private clearOutcome(): void {
        if (this.outcomeTimer !== undefined) clearTimeout(this.outcomeTimer);
        this.outcomeTimer = undefined;
    }

    dispose(): void {
        this.clearOutcome();
        this.subscriptions.forEach((s) => s.dispose());
        this.item.dispose();
    }
}
