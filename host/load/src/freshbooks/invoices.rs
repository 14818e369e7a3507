//! Invoices (`invoices/invoices`) and payments (`payments/payments`).

use super::{
    FreshBooksClient,
    client::take,
    types::{FbInvoice, FbPayment, InvoiceAddress},
};
use crate::Result;
use ferry_model::{InvoiceDraft, InvoiceLineDraft, InvoiceStatus, LineTax, PaymentDraft};
use reqwest::Method;
use serde_json::{Value, json};

fn tax_fields(line: &mut Value, n: u8, tax: Option<&LineTax>) {
    if let Some(t) = tax {
        line[format!("taxName{n}")] = t.name.clone().into();
        line[format!("taxAmount{n}")] = t.percent.normalize().to_string().into();
    }
}

pub(super) fn line_body(l: &InvoiceLineDraft) -> Value {
    let mut v = json!({
        "type": 0, "name": l.name, "description": l.description, "qty": l.quantity.normalize().to_string(),
        "unit_cost": {"amount": l.unit_cost.amount.to_string(), "code": l.unit_cost.code.as_str()},
    });
    tax_fields(&mut v, 1, l.tax1.as_ref());
    tax_fields(&mut v, 2, l.tax2.as_ref());
    v
}

/// An invoice's address fields.
fn address_fields(inv: &mut Value, a: &InvoiceAddress) {
    for (key, value) in [
        ("street", &a.street),
        ("street2", &a.street2),
        ("city", &a.city),
        ("province", &a.province),
        ("code", &a.code),
        ("country", &a.country),
    ] {
        inv[key] = value.clone().into();
    }
}

/// The `invoice` create body; `notes` carries the marker appended by `sync`.
pub(crate) fn invoice_body(
    customer_id: i64,
    d: &InvoiceDraft,
    address: &InvoiceAddress,
    notes: &str,
) -> Value {
    let mut inv = json!({
        "customerid": customer_id, "create_date": d.create_date.to_string(), "due_offset_days": d.due_offset_days,
        "currency_code": d.currency_code.as_str(), "po_number": d.po_number, "notes": notes, "terms": d.terms,
        "lines": d.lines.iter().map(line_body).collect::<Vec<_>>(),
    });
    if let Some(n) = &d.invoice_number {
        inv["invoice_number"] = n.clone().into();
    }
    // Created in its final state: `status` is writable on create (docs/freshbooks.md §14.0.6), which saves the
    // `action_mark_as_sent` call. Should FreshBooks create a draft anyway, `sync` marks it sent as before.
    if d.status == InvoiceStatus::Sent {
        inv["status"] = 2.into();
    }
    address_fields(&mut inv, address);
    json!({ "invoice": inv })
}

impl FreshBooksClient {
    /// `POST invoices/invoices` (FreshBooks creates a draft) printing `address`.
    ///
    /// # Errors
    /// HTTP errors (check `outcome_unknown`); [`crate::Error::Refused`].
    pub async fn create_invoice(
        &self,
        customer_id: i64,
        draft: &InvoiceDraft,
        address: &InvoiceAddress,
        notes: &str,
    ) -> Result<FbInvoice> {
        let what = format!("create freshbooks invoice for po {}", draft.po_number);
        let body = invoice_body(customer_id, draft, address, notes);
        let r = self
            .accounting(&what, Method::POST, "invoices/invoices", &[], Some(&body))
            .await?;
        take(&what, &r, "invoice")
    }

    /// `GET invoices/invoices/<id>`.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`]; HTTP errors.
    pub async fn get_invoice(&self, id: i64) -> Result<FbInvoice> {
        let what = format!("get freshbooks invoice {id}");
        let r = self
            .accounting(
                &what,
                Method::GET,
                &format!("invoices/invoices/{id}"),
                &[],
                None,
            )
            .await?;
        take(&what, &r, "invoice")
    }

    /// `GET invoices/invoices/<id>?include[]=lines`: the invoice with its lines.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`]; HTTP errors.
    pub async fn get_invoice_with_lines(&self, id: i64) -> Result<FbInvoice> {
        let what = format!("get freshbooks invoice {id}");
        let include = [("include[]".to_owned(), "lines".to_owned())];
        let r = self
            .accounting(
                &what,
                Method::GET,
                &format!("invoices/invoices/{id}"),
                &include,
                None,
            )
            .await?;
        take(&what, &r, "invoice")
    }

    /// `PUT invoices/invoices/<id>` with every line (FreshBooks replaces the lines and recomputes the totals)
    /// and/or the address, in one data-phase update.
    ///
    /// # Errors
    /// HTTP errors; [`crate::Error::Refused`] (e.g. a locked invoice).
    pub async fn update_invoice(
        &self,
        id: i64,
        lines: Option<&[InvoiceLineDraft]>,
        address: Option<&InvoiceAddress>,
    ) -> Result<FbInvoice> {
        let what = format!("update freshbooks invoice {id}");
        let mut fields = json!({});
        if let Some(lines) = lines {
            fields["lines"] = lines.iter().map(line_body).collect::<Vec<_>>().into();
        }
        if let Some(address) = address {
            address_fields(&mut fields, address);
        }
        let r = self.put_invoice(&what, id, fields).await?;
        take(&what, &r, "invoice")
    }

    /// `PUT invoices/invoices/<id>` `{"vis_state": 0}`: restores a deleted invoice, number and lines as they were
    /// (a PUT carrying `vis_state` applies only that).
    ///
    /// # Errors
    /// HTTP errors.
    pub async fn restore_invoice(&self, id: i64) -> Result<()> {
        let what = format!("restore freshbooks invoice {id}");
        self.put_invoice(&what, id, json!({"vis_state": 0})).await?;
        Ok(())
    }

    /// `PUT invoices/invoices/<id>` `{"vis_state": 1}`: deletes the invoice (still readable by id).
    ///
    /// # Errors
    /// HTTP errors.
    pub async fn delete_invoice(&self, id: i64) -> Result<()> {
        let what = format!("delete freshbooks invoice {id}");
        self.put_invoice(&what, id, json!({"vis_state": 1})).await?;
        Ok(())
    }

    /// `PUT invoices/invoices/<id>` `{"invoice": fields}`: one change (an action, the lines or the visibility).
    async fn put_invoice(&self, what: &str, id: i64, fields: Value) -> Result<Value> {
        let body = json!({ "invoice": fields });
        self.accounting(
            what,
            Method::PUT,
            &format!("invoices/invoices/{id}"),
            &[],
            Some(&body),
        )
        .await
    }

    /// Active invoices of one client, newest first, up to `max_pages` pages of 100 (`search[customerid]`).
    ///
    /// # Errors
    /// HTTP errors.
    pub async fn list_invoices_for_client(
        &self,
        customer_id: i64,
        max_pages: i64,
    ) -> Result<Vec<FbInvoice>> {
        let f = [("search[customerid]".to_owned(), customer_id.to_string())];
        let all: Vec<FbInvoice> = self
            .list_all(
                "list freshbooks invoices of client",
                "invoices/invoices",
                "invoices",
                &f,
                max_pages,
            )
            .await?;
        // Checked on our side too, in case the filter is ignored.
        Ok(all
            .into_iter()
            .filter(|i| i.vis_state != 1 && i.customerid == customer_id)
            .collect())
    }

    /// `PUT invoices/invoices/<id>` `{"action_mark_as_sent": true}` (sent alone: an action discards other fields).
    ///
    /// # Errors
    /// HTTP errors; [`crate::Error::NotFound`].
    pub async fn mark_invoice_sent(&self, id: i64) -> Result<FbInvoice> {
        let what = format!("mark freshbooks invoice {id} sent");
        let r = self
            .put_invoice(&what, id, json!({"action_mark_as_sent": true}))
            .await?;
        take(&what, &r, "invoice")
    }

    /// `POST payments/payments` against `invoice_id`.
    ///
    /// # Errors
    /// HTTP errors (check `outcome_unknown`); [`crate::Error::Refused`].
    pub async fn create_payment(&self, invoice_id: i64, d: &PaymentDraft) -> Result<FbPayment> {
        let what = format!("create freshbooks payment for invoice {invoice_id}");
        let mut p = json!({
            "invoiceid": invoice_id,
            "amount": {"amount": d.amount.rounded(2).amount.to_string(), "code": d.amount.code.as_str()},
            "date": d.date.to_string(), "type": d.method, "note": d.note,
        });
        if !d.transaction_id.is_empty() {
            p["transactionid"] = d.transaction_id.clone().into();
        }
        let r = self
            .accounting(
                &what,
                Method::POST,
                "payments/payments",
                &[],
                Some(&json!({"payment": p})),
            )
            .await?;
        take(&what, &r, "payment")
    }

    /// Active payments of one invoice (`search[invoiceid]`).
    ///
    /// # Errors
    /// HTTP errors.
    pub async fn list_payments_for_invoice(&self, invoice_id: i64) -> Result<Vec<FbPayment>> {
        let f = [("search[invoiceid]".to_owned(), invoice_id.to_string())];
        let all: Vec<FbPayment> = self
            .list_all(
                "list freshbooks payments of invoice",
                "payments/payments",
                "payments",
                &f,
                10,
            )
            .await?;
        Ok(all
            .into_iter()
            .filter(|p| p.vis_state != 1 && p.invoiceid == invoice_id)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_model::{CurrencyCode, Decimal, InvoiceStatus, Money};

    #[test]
    fn invoice_body_uses_camel_case_tax_fields_and_string_money() {
        let usd = CurrencyCode::parse("USD").unwrap();
        let d = InvoiceDraft {
            create_date: time::macros::date!(2026 - 11 - 20),
            due_offset_days: 14,
            currency_code: usd.clone(),
            po_number: "27".into(),
            invoice_number: None,
            status: InvoiceStatus::Sent,
            notes: String::new(),
            terms: String::new(),
            lines: vec![InvoiceLineDraft {
                name: "Coffee".into(),
                description: String::new(),
                quantity: Decimal::new(2, 0),
                unit_cost: Money::new(Decimal::new(1350, 2), usd),
                tax1: Some(LineTax {
                    name: "Sales tax".into(),
                    percent: Decimal::new(825, 2),
                }),
                tax2: None,
                sku: "COL".into(),
            }],
        };
        let b = invoice_body(3, &d, &InvoiceAddress::default(), "marker");
        let line = &b["invoice"]["lines"][0];
        assert_eq!(line["taxName1"], "Sales tax");
        assert_eq!(line["taxAmount1"], "8.25");
        assert_eq!(line["unit_cost"]["amount"], "13.50");
        assert_eq!(b["invoice"]["create_date"], "2026-11-20");
        assert!(b["invoice"].get("invoice_number").is_none());
    }
}
