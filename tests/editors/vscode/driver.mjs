// Drives VS Code (code-server) in headless Chromium for the Python tests, one step at a time.
//
// Protocol: one JSON object per line on stdin, {"id": n, "op": "...", ...args}; one answer per
// line on stdout, {"id": n, "ok": true, "result": ...} or {"id": n, "ok": false, "error": "..."}.
// The test decides what happens between steps (the emulator, the clock); this file only knows
// how a person works VS Code: the palette, the keyboard, what is on the screen.
//
// Environment: CODE_SERVER_HOME (from scripts/install-code-server.sh) to find playwright-core,
// CHROMIUM (default /usr/bin/chromium).
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as readline from 'node:readline';

const require = createRequire(path.join(process.env.CODE_SERVER_HOME ?? '.', 'node_modules', 'index.js'));
const { chromium } = require('playwright-core');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let context;
let page;

async function until(what, check, timeout = 15000, every = 100) {
    const deadline = Date.now() + timeout;
    for (;;) {
        const value = await check();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
        await sleep(every);
    }
}

const quickInput = () => page.locator('.quick-input-widget');

async function quickInputVisible() {
    return quickInput().isVisible();
}

/** The active editor's lines as the screen shows them, in line order. */
async function editorText() {
    return page.evaluate(() => {
        const editor =
            document.querySelector('.editor-group-container.active .monaco-editor .view-lines') ??
            document.querySelector('.monaco-editor .view-lines');
        if (!editor) return null;
        const lines = [...editor.querySelectorAll(':scope > .view-line')].map((line) => ({
            top: parseFloat(line.style.top || '0'),
            text: line.textContent.replace(/\u00a0/g, ' '),
        }));
        lines.sort((a, b) => a.top - b.top);
        return lines.map((line) => line.text).join('\n');
    });
}

async function statusText() {
    const item = page.locator('[id$="geminiLsp.status"]');
    if ((await item.count()) === 0 || !(await item.first().isVisible())) return '';
    const text = (await item.first().innerText()).trim();
    const spinning = (await item.first().locator('.codicon-loading').count()) > 0;
    return spinning ? `[generating] ${text}` : text;
}

async function notifications() {
    return page
        .locator('.notifications-toasts .notification-toast')
        .evaluateAll((toasts) => toasts.map((toast) => toast.innerText.trim()));
}

async function activeTabDirty() {
    return (await page.locator('.tabs-container .tab.active.dirty').count()) > 0;
}

const ops = {
    /** Opens the workbench; `trust` (true/false) answers the workspace trust dialog. */
    async launch({ url, profile, width = 1400, height = 900, trust = null }) {
        context = await chromium.launchPersistentContext(profile, {
            executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
            headless: true,
            viewport: { width, height },
            args: [
                '--no-sandbox',
                '--disable-gpu',
                '--disable-quic',
                '--no-first-run',
                '--disable-background-networking',
                '--disable-component-update',
                '--disable-sync',
            ],
        });
        page = context.pages()[0] ?? (await context.newPage());
        await page.goto(url);
        await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
        if (trust !== null) {
            const dialog = page.locator('.monaco-dialog-box', { hasText: 'trust the authors' });
            await dialog.waitFor({ timeout: 60000 });
            const answer = trust ? /Yes, I trust/ : /No, I don.t trust/;
            await dialog.locator('.monaco-button', { hasText: answer }).first().click();
            await dialog.waitFor({ state: 'hidden', timeout: 10000 });
        }
        await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ timeout: 60000 });
        return true;
    },

    async openFile({ name }) {
        await page.keyboard.press('Control+P');
        await until('quick open', quickInputVisible);
        await page.keyboard.type(name);
        await until(
            `"${name}" in quick open`,
            async () => (await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).count()) > 0,
        );
        await page.keyboard.press('Enter');
        await until(
            `the editor for ${name}`,
            async () =>
                (await page.locator('.tabs-container .tab.active', { hasText: name }).count()) > 0 &&
                (await page.locator('.editor-group-container.active .monaco-editor.focused').count()) > 0,
        );
        return true;
    },

    /** Cursor to a 1-based line and column (Go to Line). */
    async goto({ line, column = 1 }) {
        await page.keyboard.press('Control+G');
        await until('go to line', quickInputVisible);
        await page.keyboard.type(`${line}:${column}`);
        await sleep(100);
        await page.keyboard.press('Enter');
        await until(
            'the editor to take the focus',
            async () =>
                !(await quickInputVisible()) &&
                (await page.locator('.editor-group-container.active .monaco-editor.focused').count()) > 0,
        );
        return true;
    },

    /** Selects whole lines from..to (1-based, inclusive) with the keyboard. */
    async selectLines({ from, to }) {
        await ops.goto({ line: from, column: 1 });
        for (let line = from; line <= to; line++) await page.keyboard.press('Shift+ArrowDown');
        return true;
    },

    /** Runs a palette command by its title; the palette lists it only once the extension is up. */
    async command({ title, waitMs = 60000 }) {
        const deadline = Date.now() + waitMs;
        for (;;) {
            await page.keyboard.press('F1');
            await until('the command palette', quickInputVisible);
            await page.keyboard.type(title);
            const row = page.locator('.quick-input-list .monaco-list-row', {
                hasText: title,
            });
            const found = await until('the palette to list it', async () => (await row.count()) > 0, 3000).catch(
                () => false,
            );
            if (found) {
                await page.keyboard.press('Enter');
                return true;
            }
            await page.keyboard.press('Escape');
            if (Date.now() > deadline) throw new Error(`the palette never listed "${title}"`);
            await sleep(1000);
        }
    },

    /** Answers the input box a command opened (its title, then the text and Enter). */
    async answer({ title, text }) {
        await until(
            `the input box "${title}"`,
            async () =>
                (await quickInputVisible()) &&
                (await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).count()) > 0,
        );
        await page.keyboard.press('Control+A');
        await page.keyboard.type(text);
        await page.keyboard.press('Enter');
        await until('the input box to close', async () => !(await quickInputVisible()));
        return true;
    },

    /** Opens the light bulb menu (Ctrl+.) and picks the action with that title. */
    async codeAction({ title }) {
        const row = page.locator('.action-widget .monaco-list-row', { hasText: title });
        await until(
            `the code action "${title}"`,
            async () => {
                if ((await row.count()) > 0) return true;
                await page.keyboard.press('Control+Period');
                await sleep(500);
                return (await row.count()) > 0;
            },
            30000,
            500,
        );
        await row.first().click();
        return true;
    },

    /** The text of the open quick input (title, question, value). */
    async quickInputText() {
        return (await quickInputVisible()) ? quickInput().innerText() : null;
    },

    async type({ text, delay = 0 }) {
        await page.keyboard.type(text, { delay });
        return Date.now();
    },

    async press({ key, times = 1 }) {
        for (let i = 0; i < times; i++) await page.keyboard.press(key);
        return Date.now();
    },

    async editorText() {
        return editorText();
    },

    async waitEditorText({ contains, waitMs = 15000 }) {
        return until(
            `the editor to show ${JSON.stringify(contains)}`,
            async () => {
                const text = await editorText();
                return text !== null && text.includes(contains) ? text : null;
            },
            waitMs,
            25,
        );
    },

    async waitEditorTextGone({ text, waitMs = 15000 }) {
        return until(
            `the editor to no longer show ${JSON.stringify(text)}`,
            async () => {
                const screen = await editorText();
                return screen !== null && !screen.includes(text) ? screen : null;
            },
            waitMs,
            25,
        );
    },

    async status() {
        return statusText();
    },

    async waitStatus({ pattern, waitMs = 15000 }) {
        const re = new RegExp(pattern);
        return until(
            `the status bar to match /${pattern}/`,
            async () => {
                const text = await statusText();
                return re.test(text) ? text : null;
            },
            waitMs,
            25,
        );
    },

    async notifications() {
        return notifications();
    },

    /** The text of a status bar item by (the end of) its id, empty when it is not shown. */
    async statusItem({ item: name }) {
        const item = page.locator(`[id$="${name}"]`);
        if ((await item.count()) === 0 || !(await item.first().isVisible())) return '';
        return (await item.first().innerText()).trim();
    },

    /** Evaluates an expression in the page (for diagnostics while writing a test). */
    async evaluate({ expression }) {
        return page.evaluate(expression);
    },

    /** How many cursors the active editor has. */
    async cursorCount() {
        return page.locator('.editor-group-container.active .monaco-editor .cursors-layer > .cursor').count();
    },

    /** Whether the suggest widget (completion list) is open. */
    async suggestVisible() {
        return page.locator('.editor-widget.suggest-widget.visible').isVisible();
    },

    async waitNotification({ pattern, waitMs = 15000 }) {
        const re = new RegExp(pattern, 'i');
        return until(
            `a notification matching /${pattern}/`,
            async () => (await notifications()).find((text) => re.test(text)) ?? null,
            waitMs,
        );
    },

    async save() {
        await page.keyboard.press('Control+S');
        await until('the file to be saved', async () => !(await activeTabDirty()), 10000, 50);
        return true;
    },

    async screenshot({ file }) {
        await page.screenshot({ path: file });
        return file;
    },

    async close() {
        await context?.close();
        context = undefined;
        return true;
    },
};

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
    if (!line.trim()) continue;
    const { id, op, ...args } = JSON.parse(line);
    let answer;
    try {
        if (!(op in ops)) throw new Error(`unknown op ${op}`);
        answer = { id, ok: true, result: (await ops[op](args)) ?? null };
    } catch (error) {
        answer = { id, ok: false, error: String(error?.stack ?? error) };
    }
    process.stdout.write(JSON.stringify(answer) + '\n');
}
await context?.close();
