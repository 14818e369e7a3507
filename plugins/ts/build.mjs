// Builds the TypeScript twins of the example plugins: types from the WIT (types/), tsc (build/), then
// componentize-js for each → <out>/<name>.wasm. Run by scripts/build-plugin-sdks.sh in a copy of this directory
// under target/, with the TypeScript template's pinned toolchain as node_modules and the WIT as wit/.
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { generateGuestTypes, writeFiles } from '@bytecodealliance/jco-transpile';
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { componentizePlugin } from './componentize-plugin.mjs';

const root = process.cwd();
const out = resolve(process.argv[2] ?? 'dist');
_setPreopens({ [root]: root });

await rm(join(root, 'types'), { recursive: true, force: true });
await writeFiles(await generateGuestTypes(join(root, 'wit'), { worldName: 'transformer', outDir: 'types/' }));
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });

await mkdir(out, { recursive: true });
// The hooks each twin implements, as its Rust original's `export_transform!` declares them.
const hooks = {
  'custom-fields': ['map-client', 'map-invoice', 'map-item'],
  'tax-rules': ['map-invoice', 'map-item'],
  'enrich-segment': ['map-client'],
};
for (const [name, declared] of Object.entries(hooks)) {
  const component = await componentizePlugin({
    sourcePath: join(root, `build/${name}.js`),
    witPath: join(root, 'wit'),
    hooks: declared,
  });
  await writeFile(join(out, `${name}.wasm`), component);
}
