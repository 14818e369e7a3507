// {{name}}: a Ferry transform plugin (ferry:transform@{{contract}}).
//
// Each hook receives a Kentico record and the FreshBooks draft made so far, and returns the draft to pass on;
// throwing a TransformError ({ code, message }) refuses the record (it goes to the dead-letter queue). This one
// adds a line to every invoice's notes; the setting `greeting` (default "Thank you for your order") chooses its
// words. Records arrive with camelCase fields (wit/types.wit), money as decimal strings.
import { getSetting } from 'ferry:transform/host@{{contract}}';

function appendLine(text, line) {
  return text ? `${text}\n${line}` : line;
}

export const transform = {
  validateOrder(_order) {
    return [];
  },
  mapClient(_customer, draft) {
    return draft;
  },
  mapInvoice(order, draft) {
    const greeting = getSetting('greeting') ?? 'Thank you for your order';
    draft.notes = appendLine(draft.notes, `${greeting} ${order.number}!`);
    return draft;
  },
  mapItem(_line, draft) {
    return draft;
  },
};
