// The one componentize-js call of every JavaScript plugin build (the TypeScript and JavaScript templates, the
// TypeScript twins of the example plugins): the plugin's JavaScript → a component of Ferry's `transformer` world
// that declares the hooks it implements.
import { componentize } from '@bytecodealliance/componentize-js';
import { declareHooks } from './declare-hooks.mjs';

// Ferry refuses components importing clocks, files, sockets or HTTP: build without every optional WASI feature,
// so the component imports only ferry:transform/host.
const DISABLED_FEATURES = ['stdio', 'random', 'clocks', 'http', 'fetch-event'];

// `sourcePath`: the plugin's JavaScript module; `witPath`: the directory holding Ferry's WIT; `hooks`: the hooks
// the module implements (Ferry calls no other). Returns the component's bytes.
export async function componentizePlugin({ sourcePath, witPath, hooks }) {
  const { component } = await componentize({
    sourcePath,
    witPath,
    worldName: 'transformer',
    disableFeatures: DISABLED_FEATURES,
  });
  return declareHooks(component, hooks);
}
