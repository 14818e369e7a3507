"""tax-rules, the Python twin of plugins/transforms/tax-rules: Kentico tax classes to FreshBooks taxes, per
destination country and state.

Settings: `rule.<TAXCLASS>[.<COUNTRY>[.<STATE>]]` = `exempt`, `<Tax name>:<percent>`, or `<Tax name>` alone
(Kentico's own rate for the destination under that name); the most specific key wins. A line that discounts others
(no SKU of its own) follows the rule of the lines whose tax it carries. Items use `home-country` / `home-state`;
invoice lines the shipping address, else billing, else the customer's. A tax class with `zero-if-tax-id` is exempt
when the customer has a tax registration id.
"""

from typing import Optional, Union

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import host, types

EXEMPT = "exempt"
# A rule: EXEMPT, or the tax to apply; None when no rule names the class.
Rule = Optional[Union[str, types.LineTax]]


def rule_for(tc: types.TaxClass, country: str, state: str) -> Rule:
    keys = [f"rule.{tc.code}.{country}.{state}", f"rule.{tc.code}.{country}", f"rule.{tc.code}"]
    value = next((v for v in (host.get_setting(k) for k in keys) if v is not None), None)
    if value is None:
        return None
    if value.strip() == "exempt":
        return EXEMPT
    name, _, percent = value.rpartition(":") if ":" in value else (value, "", "")
    if not name.strip():
        raise Err(
            types.TransformError(
                code="bad-setting", message=f"tax rule `{value}` is not `name[:percent]` or `exempt`"
            )
        )
    return types.LineTax(name=name.strip(), percent=percent.strip())


def rule(tc: types.TaxClass, country: str, state: str) -> Rule:
    r = rule_for(tc, country, state)
    # `<Tax name>` alone: Kentico's rate at the destination, under the tenant's name.
    if isinstance(r, types.LineTax) and r.percent == "":
        return None if tc.rate_percent is None else types.LineTax(name=r.name, percent=tc.rate_percent)
    return r


def same(a: Optional[types.LineTax], b: Optional[types.LineTax]) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.name == b.name and a.percent == b.percent


class Transform(exports.Transform):
    def validate_order(self, order: types.Order) -> list[types.ValidationIssue]:
        return []

    def map_client(self, customer: types.Customer, draft: types.ClientDraft) -> types.ClientDraft:
        return draft

    def map_item(self, line: types.OrderLine, draft: types.ItemDraft) -> types.ItemDraft:
        tc = line.tax_class
        if tc is None:
            return draft
        r = rule(tc, host.get_setting("home-country") or "", host.get_setting("home-state") or "")
        if r == EXEMPT:
            draft.taxable = False
            draft.tax = None
        elif r is not None:
            draft.taxable = True
            draft.tax = r
        return draft

    def map_invoice(self, order: types.Order, draft: types.InvoiceDraft) -> types.InvoiceDraft:
        addr = order.shipping_address or order.billing_address or order.customer.address
        country, state = (addr.country_code, addr.state_code) if addr is not None else ("", "")
        has_tax_id = order.customer.tax_registration_id != ""
        # The tax each product line had before its rule, and what the rule made of it: discount lines carrying the
        # same tax get the same.
        renamed: list[tuple[Optional[types.LineTax], Optional[types.LineTax]]] = []
        for inv_line in draft.lines:
            match = next((l for l in order.lines if inv_line.sku != "" and l.sku_number == inv_line.sku), None)
            tc = match.tax_class if match is not None else None
            if tc is None:
                hit = next((new for old, new in renamed if same(old, inv_line.tax1)), False)
                if hit is not False:
                    inv_line.tax1 = hit
                continue
            before = inv_line.tax1
            if tc.zero_if_tax_id and has_tax_id:
                inv_line.tax1 = None
            else:
                r = rule(tc, country, state)
                if r == EXEMPT:
                    inv_line.tax1 = None
                elif r is not None:
                    inv_line.tax1 = r
            if before is not None and not any(same(old, before) for old, _ in renamed):
                renamed.append((before, inv_line.tax1))
        return draft
