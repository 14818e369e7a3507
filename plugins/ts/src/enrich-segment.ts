// enrich-segment, the TypeScript twin of plugins/transforms/enrich-segment: the customer's marketing segment (from
// the host's `enrich` service) in the client note.
//
// Settings: `kind` (default `segment`); `on-error` = `ignore` (default) or `reject`.
import { enrich, getSetting, log } from 'ferry:transform/host@0.2.0';
import type {
  ClientDraft,
  Customer,
  InvoiceDraft,
  ItemDraft,
  Order,
  OrderLine,
  TransformError,
  ValidationIssue,
} from 'ferry:transform/types@0.2.0';

/** `text` and `line`, separated by a newline when `text` is not empty. */
function appendLine(text: string, line: string): string {
  return text ? `${text}\n${line}` : line;
}

/** A refusal: thrown from a hook, it becomes the hook's error (the record goes to the dead-letter queue). */
function reject(code: string, message: string): TransformError {
  return { code, message };
}

/** A setting, or `fallback` when it is not set. */
function settingOr(key: string, fallback: string): string {
  return getSetting(key) ?? fallback;
}

export const transform = {
  validateOrder(_order: Order): ValidationIssue[] {
    return [];
  },
  mapClient(customer: Customer, draft: ClientDraft): ClientDraft {
    const email = customer.email;
    if (email === undefined || email === '') return draft;
    const kind = settingOr('kind', 'segment');
    let pairs: Array<[string, string]>;
    try {
      pairs = enrich(kind, email);
    } catch (e) {
      // A host call's error arrives as a thrown value whose payload is the error string.
      const message = String((e as { payload?: unknown }).payload ?? e);
      if (settingOr('on-error', 'ignore') === 'reject') throw reject('enrich-failed', message);
      log('warn', `enrich ${kind} failed, client left as is: ${message}`);
      return draft;
    }
    const segment = pairs.find(([k]) => k === 'segment');
    if (segment !== undefined) draft.note = appendLine(draft.note, `Segment: ${segment[1]}`);
    return draft;
  },
  mapInvoice(_order: Order, draft: InvoiceDraft): InvoiceDraft {
    return draft;
  },
  mapItem(_line: OrderLine, draft: ItemDraft): ItemDraft {
    return draft;
  },
};
