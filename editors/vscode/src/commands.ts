// The palette commands. The server's own command ids (protocol.ts) are registered by
// vscode-languageclient, so the palette uses geminiLsp.* ids that ask for what is missing.
import * as vscode from 'vscode';
import { ExecuteCommandRequest } from 'vscode-languageclient';
import type { ApiKey } from './apiKey';
import type { Generations } from './generations';
import type { LanguageServer } from './languageServer';
import type { PromptInput } from './promptInput';
import { ServerCommand } from './protocol';

export interface CommandDeps {
    server: LanguageServer;
    generations: Generations;
    prompts: PromptInput;
    apiKey: ApiKey;
    log: vscode.LogOutputChannel;
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
    const { server, generations, prompts, apiKey, log } = deps;
    /**
     * The active editor and the running client's converter, or undefined after telling why.
     * A server that is not running is started now (setting it up on first use).
     */
    const target = async () => {
        const editor = vscode.window.activeTextEditor;
        if (!editor) {
            void vscode.window.showInformationMessage('Gemini: open a file and place the cursor first.');
            return undefined;
        }
        // The server tells why it did not start; nothing more to say here.
        const client = await server.ensureRunning();
        return client ? { editor, c2p: client.code2ProtocolConverter, client } : undefined;
    };

    const generate = async () => {
        const { editor, c2p } = (await target()) ?? {};
        if (!editor || !c2p) return;
        // Read the position before asking: the box takes a while and the cursor may move.
        const position = c2p.asPosition(editor.selection.active);
        const uri = c2p.asUri(editor.document.uri);
        const prompt = await prompts.ask({
            title: 'Gemini: Generate at Cursor',
            prompt: 'What should Gemini write here? (Enter to send, Escape to close)',
            placeholder: 'e.g. a function that parses ISO dates',
        });
        if (prompt) await generations.run(ServerCommand.generate, { textDocument: { uri }, position, prompt });
    };

    const rewrite = async () => {
        const { editor, c2p } = (await target()) ?? {};
        if (!editor || !c2p) return;
        if (editor.selection.isEmpty) {
            void vscode.window.showInformationMessage('Gemini: select the code to rewrite first.');
            return;
        }
        const range = c2p.asRange(editor.selection);
        const uri = c2p.asUri(editor.document.uri);
        const prompt = await prompts.ask({
            title: 'Gemini: Rewrite Selection',
            prompt: 'How should Gemini rewrite the selection? The original stays until the new text is complete.',
            placeholder: 'e.g. add type hints and a docstring',
        });
        if (prompt) await generations.run(ServerCommand.edit, { textDocument: { uri }, range, prompt });
    };

    const refine = async () => {
        const { editor } = (await target()) ?? {};
        if (!editor) return;
        const id = generations.latestIn(editor.document.uri.toString());
        if (!id) {
            void vscode.window.showInformationMessage(
                'Gemini: nothing to refine yet — generate something in this file first.',
            );
            return;
        }
        const prompt = await prompts.ask({
            title: `Gemini: Refine ${id}`,
            prompt: 'What should change in the last generation?',
        });
        if (prompt) await generations.run(ServerCommand.refine, { id, prompt });
    };

    const revert = async () => {
        const { editor, c2p, client } = (await target()) ?? {};
        if (!editor || !c2p || !client) return;
        // The server knows the latest generation of the document, whoever started it.
        const argument = { textDocument: { uri: c2p.asUri(editor.document.uri) } };
        try {
            await client.sendRequest(ExecuteCommandRequest.type, {
                command: ServerCommand.revert,
                arguments: [argument],
            });
        } catch (error) {
            // e.g. "no generation to revert in this document": worth telling, not a failure.
            const message = error instanceof Error ? error.message : String(error);
            log.warn(`${ServerCommand.revert}: ${message}`);
            const prefix = `${ServerCommand.revert}: `;
            void vscode.window.showInformationMessage(
                `Gemini: ${message.startsWith(prefix) ? message.slice(prefix.length) : message}`,
            );
        }
    };

    const cancel = () => generations.cancel(vscode.window.activeTextEditor?.document.uri.toString());

    return [
        vscode.commands.registerCommand('geminiLsp.generate', generate),
        vscode.commands.registerCommand('geminiLsp.rewrite', rewrite),
        vscode.commands.registerCommand('geminiLsp.refine', refine),
        vscode.commands.registerCommand('geminiLsp.revert', revert),
        vscode.commands.registerCommand('geminiLsp.cancel', async () => {
            // Escape in an editor stops what writes there; elsewhere (status bar) stop everything.
            if (generations.all().length === 0) return;
            const here = vscode.window.activeTextEditor?.document.uri.toString();
            await (here && generations.inDocument(here).length > 0 ? cancel() : generations.cancel());
        }),
        vscode.commands.registerCommand('geminiLsp.setApiKey', () => apiKey.ask()),
        vscode.commands.registerCommand('geminiLsp.showOutput', () => log.show()),
        vscode.commands.registerCommand('geminiLsp.restart', () => server.restart(true)),
    ];
}
