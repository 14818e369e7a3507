// `npm run build`: componentize-js → dist/{{name}}.wasm.
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { componentize } from '@bytecodealliance/componentize-js';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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
await mkdir(join(root, 'dist'), { recursive: true });
await writeFile(join(root, 'dist/{{name}}.wasm'), component);
console.log(`dist/{{name}}.wasm: ${component.length} bytes`);
