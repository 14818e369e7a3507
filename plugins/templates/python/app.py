"""{{name}}: a Ferry transform plugin (ferry:transform@{{contract}}).

Each hook receives a Kentico record and the FreshBooks draft made so far, and returns the draft to pass on;
raising Err(TransformError(code, message)) refuses the record (it goes to the dead-letter queue). This one adds a
line to every invoice's notes; the setting `greeting` (default "Thank you for your order") chooses its words.
Records are the dataclasses of wit_world.imports.types (snake_case fields), money as decimal strings.
"""

from wit_world import exports
from wit_world.imports import host, types


def append_line(text: str, line: str) -> str:
    return f"{text}\n{line}" if text else line


class Transform(exports.Transform):
    def validate_order(self, order: types.Order) -> list[types.ValidationIssue]:
        return []

    def map_client(self, customer: types.Customer, draft: types.ClientDraft) -> types.ClientDraft:
        return draft

    def map_invoice(self, order: types.Order, draft: types.InvoiceDraft) -> types.InvoiceDraft:
        greeting = host.get_setting("greeting") or "Thank you for your order"
        draft.notes = append_line(draft.notes, f"{greeting} {order.number}!")
        return draft

    def map_item(self, line: types.OrderLine, draft: types.ItemDraft) -> types.ItemDraft:
        return draft
