// The language server process and its client: start, restart, settings, and the middleware
// through which streaming edits and generating commands reach the rest of the extension.
import * as vscode from 'vscode';
import { DidChangeConfigurationNotification, type Middleware } from 'vscode-languageclient';
import { type Executable, LanguageClient, RevealOutputChannelOn } from 'vscode-languageclient/node';
import type { ApiKey } from './apiKey';
import { findServerCommand, ServerNotFound } from './serverCommand';
import { SECTION, serverSettings } from './settings';

const CLIENT_ID = 'geminiLsp';
const CLIENT_NAME = 'Gemini LSP';

export class LanguageServer implements vscode.Disposable {
    private client: LanguageClient | undefined;
    /** Restarts queue up behind each other instead of racing. */
    private lifecycle: Promise<void> = Promise.resolve();

    constructor(
        private readonly log: vscode.LogOutputChannel,
        private readonly apiKey: ApiKey,
        private readonly middleware: Middleware,
    ) {}

    get current(): LanguageClient | undefined {
        return this.client;
    }

    restart(): Promise<void> {
        this.lifecycle = this.lifecycle.then(() => this.doRestart());
        return this.lifecycle;
    }

    /** Settings the server reads live: no restart, one didChangeConfiguration. */
    async sendSettings(): Promise<void> {
        if (!this.client?.isRunning()) return;
        await this.client.sendNotification(DidChangeConfigurationNotification.type, {
            settings: { [SECTION]: serverSettings() },
        });
    }

    private async doRestart(): Promise<void> {
        await this.stop();
        let executable: Executable;
        try {
            const found = await findServerCommand(this.log);
            this.log.info(`Starting the server (${found.origin}): ${[found.command, ...found.args].join(' ')}`);
            executable = {
                command: found.command,
                args: found.args,
                // No `transport`: with TransportKind.stdio the client would append --stdio.
                options: {
                    env: await this.apiKey.environment(),
                    cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
                },
            };
        } catch (error) {
            const message = error instanceof ServerNotFound ? error.message : `Gemini LSP: ${String(error)}`;
            this.log.error(message);
            void this.offerHelp(message);
            return;
        }
        const client = new LanguageClient(CLIENT_ID, CLIENT_NAME, executable, {
            documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
            outputChannel: this.log,
            traceOutputChannel: this.log,
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            initializationOptions: { [SECTION]: serverSettings() },
            middleware: this.middleware,
        });
        this.client = client;
        try {
            await client.start();
            this.log.info(
                `Server started: ${client.initializeResult?.serverInfo?.name ?? ''} ${client.initializeResult?.serverInfo?.version ?? ''}`,
            );
        } catch (error) {
            const message = `Gemini LSP: the language server did not start (${[executable.command, ...(executable.args ?? [])].join(' ')}): ${error instanceof Error ? error.message : String(error)}`;
            this.log.error(message);
            void this.offerHelp(message);
        }
    }

    private async offerHelp(message: string): Promise<void> {
        const choice = await vscode.window.showErrorMessage(message, 'Open Settings', 'Show Output');
        if (choice === 'Open Settings')
            await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.server`);
        if (choice === 'Show Output') this.log.show();
    }

    async stop(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        if (!client) return;
        try {
            await client.dispose(5000);
        } catch (error) {
            this.log.warn(`Stopping the server: ${String(error)}`);
        }
    }

    dispose(): void {
        void this.stop();
    }
}

/** Middleware parts owned here: the server sees exactly its own settings, nothing else. */
export function settingsMiddleware(): NonNullable<Middleware['workspace']> {
    return {
        configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) return answers;
            return params.items.map((item, i) => {
                if (item.section !== SECTION) return answers[i];
                const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
                return serverSettings(scope);
            });
        },
        // The default would send the whole section, extension-only keys included; our own
        // notification (LanguageServer.sendSettings) carries just the server's settings.
        didChangeConfiguration: async () => undefined,
    };
}
