"""enrich-segment, the Python twin of plugins/transforms/enrich-segment: the customer's marketing segment (from
the host's `enrich` service) in the client note.

Settings: `kind` (default `segment`); `on-error` = `ignore` (default) or `reject`.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import host, types


def append_line(text: str, line: str) -> str:
    return f"{text}\n{line}" if text else line


def setting_or(key: str, default: str) -> str:
    value = host.get_setting(key)
    return default if value is None else value


class Transform(exports.Transform):
    def validate_order(self, order: types.Order) -> list[types.ValidationIssue]:
        return []

    def map_client(self, customer: types.Customer, draft: types.ClientDraft) -> types.ClientDraft:
        email = customer.email
        if not email:
            return draft
        kind = setting_or("kind", "segment")
        try:
            pairs = host.enrich(kind, email)
        except Err as e:
            if setting_or("on-error", "ignore") == "reject":
                raise Err(types.TransformError(code="enrich-failed", message=e.value))
            host.log(types.LogLevel.WARN, f"enrich {kind} failed, client left as is: {e.value}")
            return draft
        segment = next((v for k, v in pairs if k == "segment"), None)
        if segment is not None:
            draft.note = append_line(draft.note, f"Segment: {segment}")
        return draft

    def map_invoice(self, order: types.Order, draft: types.InvoiceDraft) -> types.InvoiceDraft:
        return draft

    def map_item(self, line: types.OrderLine, draft: types.ItemDraft) -> types.ItemDraft:
        return draft
