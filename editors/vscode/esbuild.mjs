// Bundles the extension and vscode-languageclient into one file: the .vsix then needs no
// node_modules, and VS Code loads one module instead of hundreds.
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const options = {
    entryPoints: ['src/extension.ts'],
    bundle: true,
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    sourcemap: watch,
    minify: !watch,
    logLevel: 'warning',
};

if (watch) {
    await (await esbuild.context(options)).watch();
} else {
    await esbuild.build(options);
}
