// Declares which hooks a component implements, as the Rust SDK's `export_transform!(T: hook, …)` does: a custom
// section `ferry-hooks` holding [1, bits] (validate-order 1, map-client 2, map-invoice 4, map-item 8), appended to the
// component. Ferry never calls (nor starts) a plugin for a hook it does not declare; for a JavaScript or Python
// plugin, whose engine starts on every call, that is most of its cost per event. Without the section every hook is
// called. Declaring a hook you did not write only makes Ferry call your pass-through; leaving out one you wrote
// means it never runs.
const BITS = { 'validate-order': 1, 'map-client': 2, 'map-invoice': 4, 'map-item': 8 };

export function declareHooks(component, hooks) {
  let bits = 0;
  for (const hook of hooks) {
    if (!(hook in BITS)) {
      throw new Error(`unknown hook "${hook}": the hooks are ${Object.keys(BITS).join(', ')}`);
    }
    bits |= BITS[hook];
  }
  const name = Buffer.from('ferry-hooks');
  const body = Buffer.concat([Buffer.from([name.length]), name, Buffer.from([1, bits])]);
  // A custom section is id 0, then its size (one LEB128 byte: the body is 14 bytes), then the body.
  return Buffer.concat([Buffer.from(component), Buffer.from([0, body.length]), body]);
}
