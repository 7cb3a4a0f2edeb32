// The language server process and its client: start, restart, settings, and the middleware
// through which streaming edits and generating commands reach the rest of the extension.
import * as vscode from 'vscode';
import {
    CloseAction,
    DidChangeConfigurationNotification,
    ErrorAction,
    type ErrorHandler,
    type Middleware,
} from 'vscode-languageclient';
import { type Executable, LanguageClient, RevealOutputChannelOn } from 'vscode-languageclient/node';
import type { ApiKey } from './apiKey';
import type { ManagedServer } from './managedServer';
import { SECTION } from './protocol';
import { findServerLaunch, ServerNotFound } from './serverLaunch';
import { serverSettings } from './settings';

const CLIENT_ID = 'geminiLsp';
const CLIENT_NAME = 'Gemini LSP';
const MAX_RESTARTS = 4;
const RESTART_WINDOW_MS = 3 * 60_000;

export class LanguageServer implements vscode.Disposable {
    private client: LanguageClient | undefined;
    /** Restarts queue up behind each other instead of racing. */
    private lifecycle: Promise<void> = Promise.resolve();
    /** Shown only when a start nobody asked for failed: a hint, never a pop-up. */
    private readonly problem = vscode.window.createStatusBarItem(
        'geminiLsp.server',
        vscode.StatusBarAlignment.Left,
        999,
    );

    constructor(
        private readonly log: vscode.LogOutputChannel,
        private readonly apiKey: ApiKey,
        private readonly managed: ManagedServer,
        private readonly middleware: Middleware,
    ) {
        this.problem.name = 'Gemini LSP server';
        this.problem.text = '$(warning) Gemini';
        this.problem.command = 'geminiLsp.restart';
    }

    get current(): LanguageClient | undefined {
        return this.client;
    }

    /**
     * Starts a fresh server. `interactive`: the user asked for something, so a failure is told
     * in a notification; otherwise (activation, a settings change) it goes to the log and the
     * status bar only.
     */
    restart(interactive = false): Promise<void> {
        this.lifecycle = this.lifecycle.then(() => this.doRestart(interactive));
        return this.lifecycle;
    }

    /** The running client, starting the server (and telling why not) when it is not running. */
    async ensureRunning(): Promise<LanguageClient | undefined> {
        await this.lifecycle;
        if (!this.client?.isRunning()) await this.restart(true);
        return this.client?.isRunning() ? this.client : undefined;
    }

    /** Settings the server reads live: no restart, one didChangeConfiguration. */
    async sendSettings(): Promise<void> {
        if (!this.client?.isRunning()) return;
        await this.client.sendNotification(DidChangeConfigurationNotification.type, {
            settings: { [SECTION]: serverSettings() },
        });
    }

    private async doRestart(interactive: boolean): Promise<void> {
        await this.stop();
        this.problem.hide();
        let executable: Executable;
        try {
            // One environment (the key in it) for the probe and the launch.
            const env = await this.apiKey.environment();
            const found = await findServerLaunch(this.managed, env);
            this.log.info(
                `Starting the server (${found.origin}) in ${found.cwd}: ${[found.command, ...found.args].join(' ')}`,
            );
            // No `transport`: with TransportKind.stdio the client would append --stdio.
            executable = { command: found.command, args: found.args, options: { env, cwd: found.cwd } };
        } catch (error) {
            const message = error instanceof ServerNotFound ? error.message : `Gemini LSP: ${String(error)}`;
            this.fail(message, interactive);
            return;
        }
        let started = false;
        const client = new LanguageClient(CLIENT_ID, CLIENT_NAME, executable, {
            documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
            outputChannel: this.log,
            traceOutputChannel: this.log,
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            initializationOptions: { [SECTION]: serverSettings() },
            middleware: this.middleware,
            // A server that does not start is reported once, by us; no retries, no pop-ups.
            initializationFailedHandler: () => false,
            errorHandler: this.errorHandler(() => started),
        });
        // Inline completions: a proposed feature in vscode-languageclient 9, built in since 10.
        client.registerProposedFeatures();
        this.client = client;
        try {
            await client.start();
            started = true;
            this.log.info(
                `Server started: ${client.initializeResult?.serverInfo?.name ?? ''} ${client.initializeResult?.serverInfo?.version ?? ''}`,
            );
        } catch (error) {
            const message = `Gemini LSP: the language server did not start (${[executable.command, ...(executable.args ?? [])].join(' ')}): ${error instanceof Error ? error.message : String(error)}`;
            this.fail(message, interactive);
        }
    }

    /**
     * Restarts a server that stops after it started, at most 4 times in 3 minutes; then, and
     * for a server that never started, a hint in the status bar instead of the client's pop-up.
     */
    private errorHandler(started: () => boolean): ErrorHandler {
        const stops: number[] = [];
        return {
            error: (_error, _message, count) => ({
                action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
                handled: true,
            }),
            closed: () => {
                if (!started()) return { action: CloseAction.DoNotRestart, handled: true };
                const now = Date.now();
                stops.push(now);
                while (stops[0]! < now - RESTART_WINDOW_MS) stops.shift();
                if (stops.length <= MAX_RESTARTS) return { action: CloseAction.Restart, handled: true };
                this.fail(
                    `Gemini LSP: the language server stopped ${stops.length} times in a few minutes; see "Gemini: Show Output", then run "Gemini: Restart Server".`,
                    false,
                );
                return { action: CloseAction.DoNotRestart, handled: true };
            },
        };
    }

    private fail(message: string, interactive: boolean): void {
        this.log.error(message);
        this.problem.tooltip = `${message}\n\nClick to try again.`;
        this.problem.show();
        if (interactive) void this.offerHelp(message);
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
        this.problem.dispose();
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
