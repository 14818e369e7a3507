//! FreshBooks' side of the audit, read in bulk: every invoice (with its lines), deleted invoice and payment updated
//! since a date, and every credit note, each a paged list of 100 — a few calls per hundred orders instead of
//! several per order, so an audit stays inside the tenant's rate budget beside live traffic.

use crate::Result;
use crate::freshbooks::{FbCreditNote, FbInvoice, FbPayment, FreshBooksClient};
use reqwest::Method;
use serde::de::DeserializeOwned;
use time::Date;

/// Largest page FreshBooks serves.
const PER_PAGE: &str = "100";

/// What FreshBooks holds that the audit compares, and what reading it cost.
#[derive(Debug, Default)]
pub(super) struct Books {
    /// Live invoices updated since the window's first day, with their lines.
    pub(super) invoices: Vec<FbInvoice>,
    /// Deleted invoices updated since then (deleting one updates it).
    pub(super) deleted: Vec<FbInvoice>,
    /// Live payments updated since then.
    pub(super) payments: Vec<FbPayment>,
    /// Live credit notes with their lines. guess: FreshBooks documents no `updated_min` for credit notes, so all are
    /// read; a shop has few.
    pub(super) credit_notes: Vec<FbCreditNote>,
    /// FreshBooks calls made.
    pub(super) calls: u64,
}

impl Books {
    /// Reads the books updated on or after `updated_min`.
    ///
    /// # Errors
    /// HTTP errors (the audit stops; nothing was written).
    pub(super) async fn read(fb: &FreshBooksClient, updated_min: Date) -> Result<Self> {
        let mut books = Self::default();
        let since = ("search[updated_min]".to_owned(), updated_min.to_string());
        let lines = ("include[]".to_owned(), "lines".to_owned());
        let deleted = ("search[vis_state]".to_owned(), "1".to_owned());
        books.invoices = books
            .list(
                fb,
                "invoices/invoices",
                "invoices",
                &[since.clone(), lines.clone()],
            )
            .await?;
        books.invoices.retain(|i| i.vis_state != 1);
        books.deleted = books
            .list(
                fb,
                "invoices/invoices",
                "invoices",
                &[since.clone(), deleted],
            )
            .await?;
        books.deleted.retain(|i| i.vis_state == 1);
        books.payments = books
            .list(fb, "payments/payments", "payments", &[since])
            .await?;
        books.payments.retain(|p| p.vis_state != 1);
        books.credit_notes = books
            .list(fb, "credit_notes/credit_notes", "credit_notes", &[lines])
            .await?;
        books.credit_notes.retain(|c| c.vis_state != 1);
        Ok(books)
    }

    /// Every page of one list, counting the calls.
    async fn list<T: DeserializeOwned>(
        &mut self,
        fb: &FreshBooksClient,
        path: &str,
        key: &str,
        filters: &[(String, String)],
    ) -> Result<Vec<T>> {
        let what = format!("audit: list freshbooks {key}");
        let mut out = Vec::new();
        let mut page: i64 = 1;
        loop {
            let mut q = filters.to_vec();
            q.push(("per_page".to_owned(), PER_PAGE.to_owned()));
            q.push(("page".to_owned(), page.to_string()));
            let r = fb.accounting(&what, Method::GET, path, &q, None).await?;
            self.calls += 1;
            let batch: Vec<T> = crate::freshbooks::take_result(&what, &r, key)?;
            let empty = batch.is_empty();
            out.extend(batch);
            if empty || page >= crate::freshbooks::result_pages(&r) {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// One invoice the lists did not hold (updated before the window), read by id.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`]; HTTP errors.
    pub(super) async fn invoice(&mut self, fb: &FreshBooksClient, id: i64) -> Result<FbInvoice> {
        self.calls += 1;
        fb.get_invoice_with_lines(id).await
    }
}
