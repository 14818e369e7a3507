// custom-fields, the TypeScript twin of plugins/transforms/custom-fields (same settings, same drafts).
//
// Settings (all optional):
// - `client-fields`: `KenticoField=target,...`, target one of `note`, `vat-number`, `vat-name`, `organization`,
//   `mobile-phone`, `business-phone`.
// - `invoice-note-attributes`: `Name,...` or `*`: order custom attributes appended to the invoice notes.
// - `item-attributes`: `Name,...` or `*`: product attributes appended to the item description.
// - `invoice-note-discounts`: `true` to append the order's discounts, gift-card codes and gift-card payments.
import { getSetting } from 'ferry:transform/host@0.2.0';
import type {
  ClientDraft,
  CustomField,
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

function selected(fields: CustomField[], setting: string): CustomField[] {
  const list = getSetting(setting);
  if (list === undefined) return [];
  if (list.trim() === '*') return fields;
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return fields.filter((f) => names.includes(f.name) && f.value !== '');
}

function appendDiscounts(order: Order, notes: string): string {
  for (const line of order.lines) {
    for (const d of line.discounts) notes = appendLine(notes, `Discount ${d.name}: ${d.amount} (on ${line.name})`);
  }
  for (const d of order.discounts) notes = appendLine(notes, `Discount ${d.name}: ${d.amount}`);
  for (const c of order.couponCodes) {
    if (c.giftCardValue !== undefined) notes = appendLine(notes, `Gift card ${c.code}: ${c.giftCardValue}`);
  }
  for (const p of order.otherPayments) notes = appendLine(notes, `Paid by ${p.name}: ${p.amount}`);
  return notes;
}

export const transform = {
  validateOrder(_order: Order): ValidationIssue[] {
    return [];
  },
  mapClient(customer: Customer, draft: ClientDraft): ClientDraft {
    const spec = getSetting('client-fields');
    if (spec === undefined) return draft;
    for (const pair of spec.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const eq = pair.indexOf('=');
      if (eq < 0) throw reject('bad-setting', `client-fields entry \`${pair}\` is not Field=target`);
      const source = pair.slice(0, eq).trim();
      const target = pair.slice(eq + 1).trim();
      const field = customer.customFields.find((f) => f.name === source);
      if (field === undefined) continue;
      const value = field.value;
      switch (target) {
        case 'note':
          draft.note = appendLine(draft.note, `${field.name}: ${value}`);
          break;
        case 'vat-number':
          draft.vatNumber = value;
          break;
        case 'vat-name':
          draft.vatName = value;
          break;
        case 'organization':
          draft.organization = value;
          break;
        case 'mobile-phone':
          draft.mobilePhone = value;
          break;
        case 'business-phone':
          draft.businessPhone = value;
          break;
        default:
          throw reject('bad-setting', `unknown client field target \`${target}\``);
      }
    }
    return draft;
  },
  mapInvoice(order: Order, draft: InvoiceDraft): InvoiceDraft {
    for (const f of selected(order.customAttributes, 'invoice-note-attributes')) {
      draft.notes = appendLine(draft.notes, `${f.name}: ${f.value}`);
    }
    if (getSetting('invoice-note-discounts')?.trim() === 'true') draft.notes = appendDiscounts(order, draft.notes);
    return draft;
  },
  mapItem(line: OrderLine, draft: ItemDraft): ItemDraft {
    const attrs = selected(line.attributes, 'item-attributes').map((f) => `${f.name}: ${f.value}`);
    if (attrs.length > 0) {
      const joined = attrs.join(', ');
      draft.description = draft.description === '' ? joined : `${draft.description} (${joined})`;
    }
    return draft;
  },
};
