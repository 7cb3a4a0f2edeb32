// Gemini LSP for VS Code: a thin client. The server does the work; this file wires the parts.
import * as vscode from 'vscode';
import { ApiKey } from './apiKey';
import { codeActionMiddleware } from './codeActions';
import { registerCommands } from './commands';
import { GenerationEdits } from './generationEdits';
import { Generations } from './generations';
import { GenerationStatus } from './generationStatus';
import { InlineSuggestionsToggle } from './inlineSuggestions';
import { LanguageServer, settingsMiddleware } from './languageServer';
import { ManagedServer } from './managedServer';
import { PromptInput } from './promptInput';
import { warnAboutIgnoredUserSettings } from './remoteSettings';
import { affectsServerSettings, needsRestart } from './settings';

let server: LanguageServer | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
    // One channel for our log, the server's window/logMessage and (at Trace level) the LSP trace.
    const log = vscode.window.createOutputChannel('Gemini LSP', { log: true });
    const apiKey = new ApiKey(context.secrets);
    const prompts = new PromptInput(context.globalState);
    // Parts that need the client get it late: it is replaced on every restart.
    const client = () => server?.current;
    const edits = new GenerationEdits(() => client()!.protocol2CodeConverter, log);
    const generations = new Generations(client, edits, log);
    const managed = new ManagedServer(context.extensionPath, context.globalStorageUri.fsPath, log);
    server = new LanguageServer(log, apiKey, managed, {
        workspace: { ...settingsMiddleware(), handleApplyEdit: edits.handle },
        executeCommand: codeActionMiddleware(generations, prompts),
    });

    context.subscriptions.push(
        log,
        edits,
        generations,
        new GenerationStatus(generations),
        new InlineSuggestionsToggle(),
        server,
        ...registerCommands({ server, generations, prompts, apiKey, log }),
        apiKey.onDidChange(() => server?.restart()),
        // Trusting the workspace may change settings (restricted ones) and what may run.
        vscode.workspace.onDidGrantWorkspaceTrust(() => server?.restart()),
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (needsRestart(event)) void server?.restart();
            else if (affectsServerSettings(event)) void server?.sendSettings();
        }),
    );
    // Commands are registered before the server starts, so the palette lists them at once.
    // Activation (a file of a served language, or a command) asked for nothing yet: a server
    // that cannot start says so in the log and the status bar; a command then tells why.
    void warnAboutIgnoredUserSettings(context.globalStorageUri.fsPath, log);
    await server.restart();
}

export async function deactivate(): Promise<void> {
    await server?.stop();
    server = undefined;
}
