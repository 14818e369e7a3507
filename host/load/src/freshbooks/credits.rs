//! Credit notes (`credit_notes/credit_notes`, `docs/freshbooks.md` §14.1): what Ferry writes when a paid order is
//! cancelled. A credit note is not linked to an invoice; it raises the client's credit, and its notes carry Ferry's
//! marker so a retry finds it instead of writing a second one.

use super::{FreshBooksClient, client::take, invoices::line_body, types::FbCreditNote};
use crate::Result;
use ferry_model::{CurrencyCode, InvoiceLineDraft};
use reqwest::Method;
use serde_json::json;

/// Pages of a client's credit notes scanned for a marker.
const SCAN_PAGES: i64 = 5;

impl FreshBooksClient {
    /// `POST credit_notes/credit_notes` for `client_id` with `lines` (`credit_type` goodwill).
    ///
    /// # Errors
    /// HTTP errors (check `outcome_unknown`); [`crate::Error::Refused`].
    pub async fn create_credit_note(
        &self,
        client_id: i64,
        currency: &CurrencyCode,
        lines: &[InvoiceLineDraft],
        notes: &str,
    ) -> Result<FbCreditNote> {
        let what = format!("create freshbooks credit note for client {client_id}");
        let body = json!({"credit_note": {
            "clientid": client_id, "credit_type": "goodwill", "currency_code": currency.as_str(),
            "notes": notes, "lines": lines.iter().map(line_body).collect::<Vec<_>>(),
        }});
        let r = self
            .accounting(
                &what,
                Method::POST,
                "credit_notes/credit_notes",
                &[],
                Some(&body),
            )
            .await?;
        take(&what, &r, "credit_note")
    }

    /// A client's live credit notes with their lines (`search[clientid]`, `include[]=lines`), up to a few pages.
    ///
    /// # Errors
    /// HTTP errors.
    pub async fn list_credit_notes_for_client(&self, client_id: i64) -> Result<Vec<FbCreditNote>> {
        let f = [
            ("search[clientid]".to_owned(), client_id.to_string()),
            ("include[]".to_owned(), "lines".to_owned()),
        ];
        let all: Vec<FbCreditNote> = self
            .list_all(
                "list freshbooks credit notes of client",
                "credit_notes/credit_notes",
                "credit_notes",
                &f,
                SCAN_PAGES,
            )
            .await?;
        Ok(all
            .into_iter()
            .filter(|c| c.vis_state != 1 && c.clientid == client_id)
            .collect())
    }
}
