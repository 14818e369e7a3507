// `npm run build`: TypeScript types from the WIT (types/), tsc (build/), then componentize-js → dist/{{name}}.wasm.
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { generateGuestTypes, writeFiles } from '@bytecodealliance/jco-transpile';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { componentizePlugin } from './componentize-plugin.mjs';

const root = process.cwd();
// jco's tools are WebAssembly under a WASI shim that sees no directory unless given one: this project only.
_setPreopens({ [root]: root });

await rm(join(root, 'types'), { recursive: true, force: true });
await writeFiles(await generateGuestTypes(join(root, 'wit'), { worldName: 'transformer', outDir: 'types/' }));
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });

// The hooks src/ implements, from package.json's "ferry": {"hooks": [...]}: Ferry calls no other.
const { ferry } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
const component = await componentizePlugin({
  sourcePath: join(root, 'build/plugin.js'),
  witPath: join(root, 'wit'),
  hooks: ferry.hooks,
});
await mkdir(join(root, 'dist'), { recursive: true });
await writeFile(join(root, 'dist/{{name}}.wasm'), component);
console.log(`dist/{{name}}.wasm: ${component.length} bytes, hooks: ${ferry.hooks.join(', ')}`);
