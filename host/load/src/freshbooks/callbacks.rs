//! FreshBooks callbacks (webhooks, docs/freshbooks.md §10) and the payment reads the write-back needs: register,
//! list, confirm a verifier, ask for the code again, delete; one payment; payments changed since a day.

use super::client::take;
use super::{FbPayment, FreshBooksClient};
use crate::Result;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

/// One registered callback (`callback`, docs/freshbooks.md §6.8).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FbCallback {
    /// `callbackid`.
    pub callbackid: i64,
    /// The event name (`payment.create`) or parent (`payment`).
    pub event: String,
    /// Where deliveries go.
    pub uri: String,
    /// Whether the verifier was confirmed; nothing is delivered before.
    #[serde(default)]
    pub verified: bool,
}

impl FreshBooksClient {
    /// Every callback of the account (`GET …/events/callbacks`).
    ///
    /// # Errors
    /// HTTP errors.
    pub async fn list_callbacks(&self) -> Result<Vec<FbCallback>> {
        let what = "list freshbooks callbacks";
        let q = [("per_page".to_owned(), "100".to_owned())];
        let r = self
            .events(what, Method::GET, "callbacks", &q, None)
            .await?;
        take(what, &r, "callbacks")
    }

    /// Registers a callback; FreshBooks then sends the verification handshake to `uri`.
    ///
    /// # Errors
    /// HTTP errors; [`crate::Error::Refused`] for an unknown event or a bad URI.
    pub async fn create_callback(&self, event: &str, uri: &str) -> Result<FbCallback> {
        let what = format!("register freshbooks callback {event}");
        let body = json!({"callback": {"event": event, "uri": uri}});
        let r = self
            .events(&what, Method::POST, "callbacks", &[], Some(&body))
            .await?;
        take(&what, &r, "callback")
    }

    /// Confirms a callback with the verifier the handshake brought.
    ///
    /// # Errors
    /// HTTP errors; [`crate::Error::Refused`] when the verifier is not the callback's.
    pub async fn verify_callback(&self, callback_id: i64, verifier: &str) -> Result<FbCallback> {
        let what = format!("verify freshbooks callback {callback_id}");
        let body = json!({"callback": {"verifier": verifier, "callback_id": callback_id}});
        let r = self
            .events(
                &what,
                Method::PUT,
                &format!("callbacks/{callback_id}"),
                &[],
                Some(&body),
            )
            .await?;
        take(&what, &r, "callback")
    }

    /// Asks FreshBooks to send a callback's verification handshake again.
    ///
    /// # Errors
    /// HTTP errors.
    pub async fn resend_callback_verification(&self, callback_id: i64) -> Result<()> {
        let what = format!("resend freshbooks callback {callback_id} verification");
        let body = json!({"callback": {"resend": true}});
        self.events(
            &what,
            Method::PUT,
            &format!("callbacks/{callback_id}"),
            &[],
            Some(&body),
        )
        .await?;
        Ok(())
    }

    /// Deletes a callback (204).
    ///
    /// # Errors
    /// HTTP errors.
    pub async fn delete_callback(&self, callback_id: i64) -> Result<()> {
        let what = format!("delete freshbooks callback {callback_id}");
        self.events(
            &what,
            Method::DELETE,
            &format!("callbacks/{callback_id}"),
            &[],
            None,
        )
        .await?;
        Ok(())
    }

    /// One payment, deleted ones included (`GET payments/payments/<id>`).
    ///
    /// # Errors
    /// [`crate::Error::NotFound`]; HTTP errors.
    pub async fn get_payment(&self, id: i64) -> Result<FbPayment> {
        let what = format!("get freshbooks payment {id}");
        let r = self
            .accounting(
                &what,
                Method::GET,
                &format!("payments/payments/{id}"),
                &[],
                None,
            )
            .await?;
        take(&what, &r, "payment")
    }

    /// Payments changed on or after `date` (`search[updated_min]`, `YYYY-MM-DD`: FreshBooks filters by day), at
    /// most `max_pages` pages of 100.
    ///
    /// # Errors
    /// HTTP errors.
    pub async fn payments_updated_since(
        &self,
        date: &str,
        max_pages: i64,
    ) -> Result<Vec<FbPayment>> {
        let f = [("search[updated_min]".to_owned(), date.to_owned())];
        self.list_all(
            "list freshbooks payments changed",
            "payments/payments",
            "payments",
            &f,
            max_pages,
        )
        .await
    }
}
