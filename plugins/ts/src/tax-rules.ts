// tax-rules, the TypeScript twin of plugins/transforms/tax-rules: Kentico tax classes to FreshBooks taxes, per
// destination country and state.
//
// Settings: `rule.<TAXCLASS>[.<COUNTRY>[.<STATE>]]` = `exempt`, `<Tax name>:<percent>`, or `<Tax name>` alone
// (Kentico's own rate for the destination under that name); the most specific key wins. A line that discounts
// others (no SKU of its own) follows the rule of the lines whose tax it carries. Items use `home-country` /
// `home-state`; invoice lines the shipping address, else billing, else the customer's. A tax class with
// `zero-if-tax-id` is exempt when the customer has a tax registration id.
import { getSetting } from 'ferry:transform/host@0.2.0';
import type {
  ClientDraft,
  Customer,
  InvoiceDraft,
  ItemDraft,
  LineTax,
  Order,
  OrderLine,
  TaxClass,
  TransformError,
  ValidationIssue,
} from 'ferry:transform/types@0.2.0';

/** What a rule makes of a tax class: no tax, or this tax. */
type Rule = { kind: 'exempt' } | { kind: 'tax'; tax: LineTax };

/** A refusal: thrown from a hook, it becomes the hook's error (the record goes to the dead-letter queue). */
function reject(code: string, message: string): TransformError {
  return { code, message };
}

function ruleFor(tc: TaxClass, country: string, state: string): Rule | undefined {
  const keys = [`rule.${tc.code}.${country}.${state}`, `rule.${tc.code}.${country}`, `rule.${tc.code}`];
  let value: string | undefined;
  for (const k of keys) {
    value = getSetting(k);
    if (value !== undefined) break;
  }
  if (value === undefined) return undefined;
  if (value.trim() === 'exempt') return { kind: 'exempt' };
  const colon = value.lastIndexOf(':');
  const [name, percent] = colon < 0 ? [value, ''] : [value.slice(0, colon), value.slice(colon + 1)];
  if (name.trim() === '') throw reject('bad-setting', `tax rule \`${value}\` is not \`name[:percent]\` or \`exempt\``);
  return { kind: 'tax', tax: { name: name.trim(), percent: percent.trim() } };
}

function rule(tc: TaxClass, country: string, state: string): Rule | undefined {
  const r = ruleFor(tc, country, state);
  // `<Tax name>` alone: Kentico's rate at the destination, under the tenant's name.
  if (r?.kind === 'tax' && r.tax.percent === '') {
    return tc.ratePercent === undefined ? undefined : { kind: 'tax', tax: { name: r.tax.name, percent: tc.ratePercent } };
  }
  return r;
}

/** The same tax: name and percentage. */
function same(a: LineTax | undefined, b: LineTax | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.name === b.name && a.percent === b.percent;
}

export const transform = {
  validateOrder(_order: Order): ValidationIssue[] {
    return [];
  },
  mapClient(_customer: Customer, draft: ClientDraft): ClientDraft {
    return draft;
  },
  mapItem(line: OrderLine, draft: ItemDraft): ItemDraft {
    const tc = line.taxClass;
    if (tc === undefined) return draft;
    const r = rule(tc, getSetting('home-country') ?? '', getSetting('home-state') ?? '');
    if (r?.kind === 'exempt') {
      draft.taxable = false;
      draft.tax = undefined;
    } else if (r?.kind === 'tax') {
      draft.taxable = true;
      draft.tax = r.tax;
    }
    return draft;
  },
  mapInvoice(order: Order, draft: InvoiceDraft): InvoiceDraft {
    const addr = order.shippingAddress ?? order.billingAddress ?? order.customer.address;
    const country = addr?.countryCode ?? '';
    const state = addr?.stateCode ?? '';
    const hasTaxId = order.customer.taxRegistrationId !== '';
    // The tax each product line had before its rule, and what the rule made of it: discount lines carrying the
    // same tax get the same.
    const renamed: Array<[LineTax | undefined, LineTax | undefined]> = [];
    for (const invLine of draft.lines) {
      const tc = order.lines.find((l) => invLine.sku !== '' && l.skuNumber === invLine.sku)?.taxClass;
      if (tc === undefined) {
        const hit = renamed.find(([old]) => same(old, invLine.tax1));
        if (hit !== undefined) invLine.tax1 = hit[1];
        continue;
      }
      const before = invLine.tax1;
      if (tc.zeroIfTaxId && hasTaxId) {
        invLine.tax1 = undefined;
      } else {
        const r = rule(tc, country, state);
        if (r?.kind === 'exempt') invLine.tax1 = undefined;
        else if (r?.kind === 'tax') invLine.tax1 = r.tax;
      }
      if (before !== undefined && !renamed.some(([old]) => same(old, before))) renamed.push([before, invLine.tax1]);
    }
    return draft;
  },
};
