// `npm run build`: componentize-js → dist/{{name}}.wasm.
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { componentize } from '@bytecodealliance/componentize-js';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { declareHooks } from './declare-hooks.mjs';

const root = process.cwd();
// componentize-js is WebAssembly under a WASI shim that sees no directory unless given one: this project only.
_setPreopens({ [root]: root });

// Ferry refuses components importing clocks, files, sockets or HTTP: build without every optional WASI feature,
// so the component imports only ferry:transform/host.
const { component } = await componentize({
  sourcePath: join(root, 'src/plugin.js'),
  witPath: join(root, 'wit'),
  worldName: 'transformer',
  disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
});
// The hooks src/ implements, from package.json's "ferry": {"hooks": [...]}: Ferry calls no other.
const { ferry } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
const declared = declareHooks(component, ferry.hooks);
await mkdir(join(root, 'dist'), { recursive: true });
await writeFile(join(root, 'dist/{{name}}.wasm'), declared);
console.log(`dist/{{name}}.wasm: ${declared.length} bytes, hooks: ${ferry.hooks.join(', ')}`);
