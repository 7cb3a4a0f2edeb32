// The server's side of the contract: command ids, their arguments and results.

export const ServerCommand = {
    generate: 'gemini.generate',
    edit: 'gemini.edit',
    cancel: 'gemini.cancel',
    revert: 'gemini.revert',
    refine: 'gemini.refine',
} as const;

/** Commands that stream a generation and answer when it ends. */
export const GENERATING_COMMANDS: ReadonlySet<string> = new Set([
    ServerCommand.generate,
    ServerCommand.edit,
    ServerCommand.refine,
]);

export interface Position {
    line: number;
    character: number;
}

export interface Range {
    start: Position;
    end: Position;
}

/** The one object argument of gemini.generate / gemini.edit / gemini.refine. */
export interface GenerationArgs {
    textDocument?: { uri: string };
    position?: Position;
    range?: Range;
    id?: string;
    prompt?: string;
    /** Set by code actions that want the editor to ask the user for the prompt. */
    promptRequest?: string;
    attachments?: string[];
    model?: string;
}

export interface GenerationResult {
    id: string;
    status: 'completed' | 'cancelled';
    range: Range;
    text: string;
    model: string;
    usage?: { promptTokens?: number; outputTokens?: number; totalTokens?: number };
    timings?: { firstTokenMs?: number; totalMs?: number };
}

/** Every streaming workspace/applyEdit carries this label; the rest is the generation id. */
const LABEL = /^Gemini generation (\S+)$/;

export function generationIdOfLabel(label: string | undefined): string | undefined {
    return label === undefined ? undefined : LABEL.exec(label)?.[1];
}
