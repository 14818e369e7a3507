"""custom-fields, the Python twin of plugins/transforms/custom-fields (same settings, same drafts).

Settings (all optional):
- `client-fields`: `KenticoField=target,...`, target one of `note`, `vat-number`, `vat-name`, `organization`,
  `mobile-phone`, `business-phone`.
- `invoice-note-attributes`: `Name,...` or `*`: order custom attributes appended to the invoice notes.
- `item-attributes`: `Name,...` or `*`: product attributes appended to the item description.
- `invoice-note-discounts`: `true` to append the order's discounts, gift-card codes and gift-card payments.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import host, types


def append_line(text: str, line: str) -> str:
    return f"{text}\n{line}" if text else line


def reject(code: str, message: str) -> Err:
    return Err(types.TransformError(code=code, message=message))


def selected(fields: list[types.CustomField], setting: str) -> list[types.CustomField]:
    spec = host.get_setting(setting)
    if spec is None:
        return []
    if spec.strip() == "*":
        return list(fields)
    names = [s.strip() for s in spec.split(",") if s.strip()]
    return [f for f in fields if f.name in names and f.value != ""]


def append_discounts(order: types.Order, notes: str) -> str:
    for line in order.lines:
        for d in line.discounts:
            notes = append_line(notes, f"Discount {d.name}: {d.amount} (on {line.name})")
    for d in order.discounts:
        notes = append_line(notes, f"Discount {d.name}: {d.amount}")
    for c in order.coupon_codes:
        if c.gift_card_value is not None:
            notes = append_line(notes, f"Gift card {c.code}: {c.gift_card_value}")
    for p in order.other_payments:
        notes = append_line(notes, f"Paid by {p.name}: {p.amount}")
    return notes


class Transform(exports.Transform):
    def validate_order(self, order: types.Order) -> list[types.ValidationIssue]:
        return []

    def map_client(self, customer: types.Customer, draft: types.ClientDraft) -> types.ClientDraft:
        spec = host.get_setting("client-fields")
        if spec is None:
            return draft
        for pair in (s.strip() for s in spec.split(",")):
            if not pair:
                continue
            if "=" not in pair:
                raise reject("bad-setting", f"client-fields entry `{pair}` is not Field=target")
            source, target = pair.split("=", 1)
            field = next((f for f in customer.custom_fields if f.name == source.strip()), None)
            if field is None:
                continue
            value = field.value
            target = target.strip()
            if target == "note":
                draft.note = append_line(draft.note, f"{field.name}: {value}")
            elif target == "vat-number":
                draft.vat_number = value
            elif target == "vat-name":
                draft.vat_name = value
            elif target == "organization":
                draft.organization = value
            elif target == "mobile-phone":
                draft.mobile_phone = value
            elif target == "business-phone":
                draft.business_phone = value
            else:
                raise reject("bad-setting", f"unknown client field target `{target}`")
        return draft

    def map_invoice(self, order: types.Order, draft: types.InvoiceDraft) -> types.InvoiceDraft:
        for f in selected(order.custom_attributes, "invoice-note-attributes"):
            draft.notes = append_line(draft.notes, f"{f.name}: {f.value}")
        discounts = host.get_setting("invoice-note-discounts")
        if discounts is not None and discounts.strip() == "true":
            draft.notes = append_discounts(order, draft.notes)
        return draft

    def map_item(self, line: types.OrderLine, draft: types.ItemDraft) -> types.ItemDraft:
        attrs = [f"{f.name}: {f.value}" for f in selected(line.attributes, "item-attributes")]
        if attrs:
            joined = ", ".join(attrs)
            draft.description = f"{draft.description} ({joined})" if draft.description else joined
        return draft
