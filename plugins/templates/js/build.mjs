// `npm run build`: componentize-js → dist/{{name}}.wasm.
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { componentizePlugin } from './componentize-plugin.mjs';

const root = process.cwd();
// componentize-js is WebAssembly under a WASI shim that sees no directory unless given one: this project only.
_setPreopens({ [root]: root });

// The hooks src/ implements, from package.json's "ferry": {"hooks": [...]}: Ferry calls no other.
const { ferry } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
const component = await componentizePlugin({
  sourcePath: join(root, 'src/plugin.js'),
  witPath: join(root, 'wit'),
  hooks: ferry.hooks,
});
await mkdir(join(root, 'dist'), { recursive: true });
await writeFile(join(root, 'dist/{{name}}.wasm'), component);
console.log(`dist/{{name}}.wasm: ${component.length} bytes, hooks: ${ferry.hooks.join(', ')}`);
