// {{name}}: a Ferry transform plugin (ferry:transform@{{contract}}).
//
// Each hook receives a Kentico record and the FreshBooks draft made so far, and returns the draft to pass on;
// throwing a TransformError ({ code, message }) refuses the record (it goes to the dead-letter queue). This one
// adds a line to every invoice's notes; the setting `greeting` (default "Thank you for your order") chooses its
// words. The types are generated from wit/ by `npm run build` (types/).
import { getSetting } from 'ferry:transform/host@{{contract}}';
import type {
  ClientDraft,
  Customer,
  InvoiceDraft,
  ItemDraft,
  Order,
  OrderLine,
  ValidationIssue,
} from 'ferry:transform/types@{{contract}}';

function appendLine(text: string, line: string): string {
  return text ? `${text}\n${line}` : line;
}

export const transform = {
  validateOrder(_order: Order): ValidationIssue[] {
    return [];
  },
  mapClient(_customer: Customer, draft: ClientDraft): ClientDraft {
    return draft;
  },
  mapInvoice(order: Order, draft: InvoiceDraft): InvoiceDraft {
    const greeting = getSetting('greeting') ?? 'Thank you for your order';
    draft.notes = appendLine(draft.notes, `${greeting} ${order.number}!`);
    return draft;
  },
  mapItem(_line: OrderLine, draft: ItemDraft): ItemDraft {
    return draft;
  },
};
