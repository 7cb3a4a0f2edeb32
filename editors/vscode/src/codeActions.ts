// Runs the server's protocol commands (gemini.*) when VS Code invokes them: the code actions in
// the light bulb. A code action that needs an instruction carries `promptRequest` instead of
// `prompt`: ask the user, then send it. Generating commands go through Generations so progress
// shows the same way as for the palette.
import type { Middleware } from 'vscode-languageclient';
import type { Generations } from './generations';
import type { PromptInput } from './promptInput';
import { GENERATING_COMMANDS, type GenerationArgs } from './protocol';

export function codeActionMiddleware(
    generations: Generations,
    prompts: PromptInput,
): NonNullable<Middleware['executeCommand']> {
    return async (command, args, next) => {
        if (!GENERATING_COMMANDS.has(command)) return next(command, args);
        const argument = { ...((args[0] ?? {}) as GenerationArgs) };
        if (
            'promptRequest' in argument &&
            argument.prompt === undefined &&
            typeof argument.promptRequest === 'string'
        ) {
            const prompt = await prompts.ask({ title: 'Gemini', prompt: argument.promptRequest });
            if (!prompt) return undefined;
            argument.prompt = prompt;
            delete argument.promptRequest;
        }
        return generations.run(command, argument);
    };
}
