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
    /** Why it failed; the server has told the user already (window/showMessage)… */
    error?: string;
    /** …unless it refused the arguments as invalid. */
    invalid?: boolean;
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
        const outcome = await this.track(this.start(command, args), (generation) =>
            this.send(client, generation, args),
        );
        if (outcome.invalid) void vscode.window.showErrorMessage(`Gemini: ${outcome.error}`);
        return outcome.result;
    }

    private start(command: string, args: GenerationArgs): Generation {
        const uri = 'textDocument' in args ? canonical(args.textDocument.uri) : this.documentOf(args.id);
        return {
            command,
            uri,
            title: 'Gemini',
            message: 'Waiting for Gemini…',
            request: new CancellationTokenSource(),
        };
    }

    /** Keeps `generation` in the running set (for the status and Escape) until `work` ends. */
    private async track(
        generation: Generation,
        work: (generation: Generation) => Promise<GenerationResult>,
    ): Promise<Outcome> {
        this.running.add(generation);
        this.changed.fire();
        const outcome: Outcome = { generation };
        try {
            outcome.result = await work(generation);
        } catch (error) {
            const code = error instanceof ResponseError ? error.code : undefined;
            if (code !== LSPErrorCodes.RequestCancelled) {
                outcome.error = error instanceof Error ? error.message : String(error);
                this.log.error(`${generation.command} failed: ${outcome.error}`);
            }
            // A failed generation is told by the server (window/showMessage); a request it
            // refused as invalid is not.
            outcome.invalid = code === ErrorCodes.InvalidParams;
        } finally {
            this.finish(outcome);
        }
        return outcome;
    }

    /** The request itself, with our own work-done token so that its progress is ours to show. */
    private async send(
        client: LanguageClient,
        generation: Generation,
        args: GenerationArgs,
    ): Promise<GenerationResult> {
        const token = `gemini-lsp-vscode-${nextToken++}`;
        const progress = client.onProgress(WorkDoneProgress.type, token, (value) => this.progress(generation, value));
        try {
            return await client.sendRequest(
                ExecuteCommandRequest.type,
                { command: generation.command, arguments: [args], workDoneToken: token },
                generation.request.token,
            );
        } finally {
            progress.dispose();
        }
    }

    private finish(outcome: Outcome): void {
        const { generation, result } = outcome;
        generation.request.dispose();
        this.running.delete(generation);
        this.edits.end({ generation: result?.id, uri: generation.uri });
        if (result?.id) {
            if (generation.uri) this.latest.set(generation.uri, result.id);
            this.log.info(
                `${generation.command} ${result.id} ${result.status}: ${result.text.length} characters, ${result.timings?.totalMs ?? '?'} ms`,
            );
        }
        this.changed.fire();
        this.ended.fire(outcome);
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
            this.log.warn(`${ServerCommand.cancel} failed (${String(error)}); cancelling the requests`);
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
