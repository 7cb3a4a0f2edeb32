// Applies the server's streaming edits so that one generation is one undo step.
//
// VS Code makes an undo stop around every workspace edit, so a generation of 200 chunks would
// take 200 Ctrl+Z. Edits labelled "Gemini generation <id>" are applied here instead, through
// TextEditor.edit: the first edit of a generation opens an undo step and the following ones
// join it. Everything else goes to vscode-languageclient's own handler.
import * as vscode from 'vscode';
import {
    type ApplyWorkspaceEditParams,
    ApplyWorkspaceEditRequest,
    type ApplyWorkspaceEditResult,
    CancellationToken,
    type Protocol2CodeConverter,
    type ResponseError,
    type TextEdit,
    TextDocumentEdit,
} from 'vscode-languageclient';
import { GENERATION_LABEL_PREFIX } from './protocol';

type Next = ApplyWorkspaceEditRequest.HandlerSignature;
type Answer = ApplyWorkspaceEditResult | ResponseError<void>;

interface DocumentEdit {
    uri: string;
    /** null or undefined: not versioned, apply to whatever the document is now. */
    version: number | null | undefined;
    edits: TextEdit[];
}

interface OpenUndoStep {
    generation: string;
    /** The document's version right after our last edit: any other change ends the step. */
    version: number;
}

export class GenerationEdits implements vscode.Disposable {
    private readonly open = new Map<string, OpenUndoStep>();
    private readonly subscriptions: vscode.Disposable[] = [];

    constructor(
        private readonly converter: () => Protocol2CodeConverter,
        private readonly log: vscode.LogOutputChannel,
    ) {
        this.subscriptions.push(
            vscode.workspace.onDidCloseTextDocument((document) => this.open.delete(document.uri.toString())),
        );
    }

    /** Middleware for workspace/applyEdit. */
    readonly handle = async (params: ApplyWorkspaceEditParams, next: Next): Promise<Answer> => {
        const generation = generationIdOfLabel(params.label);
        const target = generation === undefined ? undefined : singleDocumentEdit(params);
        const uri = target && this.converter().asUri(target.uri);
        const editor = uri && visibleEditorOf(uri);
        if (!generation || !target || !editor) return next(params, CancellationToken.None);

        const document = editor.document;
        if (target.version !== null && target.version !== undefined && target.version !== document.version) {
            // The user typed since the server planned this edit; the server re-plans and re-sends.
            return {
                applied: false,
                failureReason: `document is at version ${document.version}, edit is for ${target.version}`,
            };
        }
        const key = document.uri.toString();
        const step = this.open.get(key);
        const joins = step?.generation === generation && step.version === document.version;
        const ranges = target.edits.map((edit) => this.converter().asRange(edit.range));
        let applied: boolean;
        try {
            applied = await editor.edit(
                (builder) => target.edits.forEach((edit, i) => builder.replace(ranges[i]!, edit.newText)),
                { undoStopBefore: !joins, undoStopAfter: false },
            );
        } catch (error) {
            // The editor closed meanwhile: VS Code's own handler still applies it to the document.
            this.log.debug(`Editor gone for ${key}, applying through the workspace: ${String(error)}`);
            this.open.delete(key);
            return next(params, CancellationToken.None);
        }
        if (applied) {
            this.open.set(key, { generation, version: document.version });
        } else {
            this.open.delete(key);
        }
        return applied ? { applied } : { applied, failureReason: 'the editor rejected the edit (document changed)' };
    };

    /**
     * Forgets a finished generation. No explicit undo stop is needed after it: whatever edits
     * the document next (typing, another generation, a workspace edit) pushes its own.
     */
    end(which: { generation?: string; uri?: string }): void {
        for (const [key, step] of [...this.open]) {
            if (which.generation ? step.generation === which.generation : key === which.uri) this.open.delete(key);
        }
    }

    dispose(): void {
        this.subscriptions.forEach((s) => s.dispose());
        this.open.clear();
    }
}

/** The text edits of a workspace edit that changes exactly one document, else undefined. */
function singleDocumentEdit(params: ApplyWorkspaceEditParams): DocumentEdit | undefined {
    const { documentChanges, changes } = params.edit;
    if (documentChanges) {
        if (documentChanges.length === 0) return undefined;
        let result: DocumentEdit | undefined;
        for (const change of documentChanges) {
            if (!TextDocumentEdit.is(change)) return undefined;
            const { uri, version } = change.textDocument;
            if (result && (result.uri !== uri || result.version !== version)) return undefined;
            // Snippet edits need VS Code's snippet engine: leave them to the default handler.
            if (change.edits.some((edit) => !('newText' in edit))) return undefined;
            result ??= { uri, version, edits: [] };
            result.edits.push(...(change.edits as TextEdit[]));
        }
        return result;
    }
    const uris = Object.keys(changes ?? {});
    if (uris.length !== 1) return undefined;
    return { uri: uris[0]!, version: undefined, edits: changes![uris[0]!]! };
}

function visibleEditorOf(uri: vscode.Uri): vscode.TextEditor | undefined {
    const key = uri.toString();
    const active = vscode.window.activeTextEditor;
    if (active?.document.uri.toString() === key) return active;
    return vscode.window.visibleTextEditors.find((editor) => editor.document.uri.toString() === key);
}

/** The generation id in a streaming edit's label ("Gemini generation g3"), if it is one. */
function generationIdOfLabel(label: string | undefined): string | undefined {
    if (!label?.startsWith(GENERATION_LABEL_PREFIX)) return undefined;
    const id = label.slice(GENERATION_LABEL_PREFIX.length);
    return /^\S+$/.test(id) ? id : undefined;
}
