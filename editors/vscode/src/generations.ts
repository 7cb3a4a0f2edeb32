// Runs the server's generating commands and keeps track of what is streaming where.
//
// Each request carries our own work-done token, so the progress it reports is ours to show
// (status bar, Escape context key) whether the generation was started from the palette or
// from a code action.
import * as vscode from 'vscode';
import {
    CancellationTokenSource,
    ErrorCodes,
    LSPErrorCodes,
    ExecuteCommandRequest,
    ResponseError,
    WorkDoneProgress,
    type WorkDoneProgressBegin,
    type WorkDoneProgressEnd,
    type WorkDoneProgressReport,
} from 'vscode-languageclient';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { GenerationEdits } from './generationEdits';
import { type GenerationArgs, type GenerationResult, ServerCommand } from './protocol';

export interface Generation {
    readonly command: string;
    /** The document it writes into, when known. */
    readonly uri: string | undefined;
    title: string;
    message: string;
    readonly request: CancellationTokenSource;
}

export interface Outcome {
    generation: Generation;
    result?: GenerationResult;
    /** Why it failed; the server has told the user already (window/showMessage). */
    error?: string;
}

let nextToken = 1;

export class Generations implements vscode.Disposable {
    private readonly running = new Set<Generation>();
    /** Latest generation id per document, for Revert and Refine. */
    private readonly latest = new Map<string, string>();
    private readonly changed = new vscode.EventEmitter<void>();
    private readonly ended = new vscode.EventEmitter<Outcome>();
    /** Fires when a generation starts, reports progress or ends. */
    readonly onDidChange = this.changed.event;
    readonly onDidEnd = this.ended.event;

    constructor(
        private readonly client: () => LanguageClient | undefined,
        private readonly edits: GenerationEdits,
        private readonly log: vscode.LogOutputChannel,
    ) {}

    all(): readonly Generation[] {
        return [...this.running];
    }

    inDocument(uri: string): Generation[] {
        const key = canonical(uri);
        return this.all().filter((g) => g.uri === key || g.uri === undefined);
    }

    latestIn(uri: string): string | undefined {
        return this.latest.get(canonical(uri));
    }

    /** Sends a generating command and waits for it to end; undefined if it did not complete. */
    async run(command: string, args: GenerationArgs): Promise<GenerationResult | undefined> {
        const client = this.client();
        if (!client?.isRunning()) {
            void vscode.window.showErrorMessage(
                'Gemini: the language server is not running. Run "Gemini: Restart Server" or see "Gemini: Show Output".',
            );
            return undefined;
        }
        const uri = args.textDocument ? canonical(args.textDocument.uri) : this.documentOf(args.id);
        const generation: Generation = {
            command,
            uri,
            title: 'Gemini',
            message: 'Waiting for Gemini…',
            request: new CancellationTokenSource(),
        };
        const token = `gemini-lsp-vscode-${nextToken++}`;
        const progress = client.onProgress(WorkDoneProgress.type, token, (value) => this.progress(generation, value));
        this.running.add(generation);
        this.changed.fire();
        const outcome: Outcome = { generation };
        try {
            outcome.result = await client.sendRequest(
                ExecuteCommandRequest.type,
                { command, arguments: [args], workDoneToken: token },
                generation.request.token,
            );
            return outcome.result;
        } catch (error) {
            const code = error instanceof ResponseError ? error.code : undefined;
            if (code !== LSPErrorCodes.RequestCancelled) {
                outcome.error = error instanceof Error ? error.message : String(error);
                this.log.error(`${command} failed: ${outcome.error}`);
            }
            // A failed generation is told by the server (window/showMessage); a request it
            // refused as invalid is not, so say it here.
            if (code === ErrorCodes.InvalidParams) void vscode.window.showErrorMessage(`Gemini: ${outcome.error}`);
            return undefined;
        } finally {
            progress.dispose();
            generation.request.dispose();
            this.running.delete(generation);
            const result = outcome.result;
            this.edits.end({ generation: result?.id, uri });
            if (result?.id) {
                if (uri) this.latest.set(uri, result.id);
                this.log.info(
                    `${command} ${result.id} ${result.status}: ${result.text.length} characters, ${result.timings?.totalMs ?? '?'} ms`,
                );
            }
            this.changed.fire();
            this.ended.fire(outcome);
        }
    }

    /** Stops the generations in a document (or all): the server closes the stream at once. */
    async cancel(uri?: string): Promise<void> {
        const targets = uri ? this.inDocument(uri) : this.all();
        const client = this.client();
        if (targets.length === 0 || !client?.isRunning()) return;
        try {
            const argument = uri ? { textDocument: { uri } } : {};
            await client.sendRequest(ExecuteCommandRequest.type, {
                command: ServerCommand.cancel,
                arguments: [argument],
            });
        } catch (error) {
            // The server could not say; cancelling the requests themselves stops them too.
            this.log.warn(`gemini.cancel failed (${String(error)}); cancelling the requests`);
            targets.forEach((g) => g.request.cancel());
        }
    }

    private progress(
        generation: Generation,
        value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd,
    ): void {
        if (value.kind === 'begin') generation.title = value.title;
        if (value.message) generation.message = value.message;
        this.changed.fire();
    }

    private documentOf(id: string | undefined): string | undefined {
        for (const [uri, latest] of this.latest) if (latest === id) return uri;
        return undefined;
    }

    dispose(): void {
        this.all().forEach((g) => g.request.cancel());
        this.changed.dispose();
        this.ended.dispose();
    }
}

/** The server may spell a URI differently (e.g. percent-encoding); compare VS Code's form. */
function canonical(uri: string): string {
    return vscode.Uri.parse(uri).toString();
}
