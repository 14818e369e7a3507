// `npm run build`: TypeScript types from the WIT (types/), tsc (build/), then componentize-js → dist/{{name}}.wasm.
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { generateGuestTypes, writeFiles } from '@bytecodealliance/jco-transpile';
import { componentize } from '@bytecodealliance/componentize-js';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { declareHooks } from './declare-hooks.mjs';

const root = process.cwd();
// jco's tools are WebAssembly under a WASI shim that sees no directory unless given one: this project only.
_setPreopens({ [root]: root });

await rm(join(root, 'types'), { recursive: true, force: true });
await writeFiles(await generateGuestTypes(join(root, 'wit'), { worldName: 'transformer', outDir: 'types/' }));
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });

// Ferry refuses components importing clocks, files, sockets or HTTP: build without every optional WASI feature,
// so the component imports only ferry:transform/host.
const { component } = await componentize({
  sourcePath: join(root, 'build/plugin.js'),
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
