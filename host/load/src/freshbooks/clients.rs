//! Clients (`users/clients`): get, search by e-mail or note marker, create, update.

use super::{
    FreshBooksClient,
    client::{pages, take},
    types::FbClient,
};
use crate::Result;
use ferry_model::ClientDraft;
use reqwest::Method;
use serde_json::{Value, json};

/// Largest page FreshBooks serves.
pub(crate) const PER_PAGE: &str = "100";

/// The `client` body: only fields Ferry owns, so an update leaves others (set by people) alone.
fn client_body(d: &ClientDraft) -> Value {
    let mut c = json!({
        "fname": d.first_name, "lname": d.last_name, "email": d.email, "organization": d.organization,
        "bus_phone": d.business_phone, "mob_phone": d.mobile_phone,
        "p_street": d.street, "p_street2": d.street2, "p_city": d.city, "p_province": d.province,
        "p_code": d.postal_code, "p_country": d.country, "note": d.note,
    });
    if !d.vat_name.is_empty() || !d.vat_number.is_empty() {
        c["vat_name"] = d.vat_name.clone().into();
        c["vat_number"] = d.vat_number.clone().into();
    }
    if let Some(cc) = &d.currency_code {
        c["currency_code"] = cc.as_str().into();
    }
    json!({ "client": c })
}

impl FreshBooksClient {
    /// `GET users/clients/<id>`.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] on 404 (errno 1012); HTTP errors.
    pub async fn get_client(&self, id: i64) -> Result<FbClient> {
        let what = format!("get freshbooks client {id}");
        let r = self
            .accounting(
                &what,
                Method::GET,
                &format!("users/clients/{id}"),
                &[],
                None,
            )
            .await?;
        take(&what, &r, "client")
    }

    async fn search_clients(&self, what: &str, filter: (&str, &str)) -> Result<Vec<FbClient>> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let q = vec![
                (format!("search[{}]", filter.0), filter.1.to_owned()),
                ("per_page".to_owned(), PER_PAGE.to_owned()),
                ("page".to_owned(), page.to_string()),
            ];
            let r = self
                .accounting(what, Method::GET, "users/clients", &q, None)
                .await?;
            let batch: Vec<FbClient> = take(what, &r, "clients")?;
            let empty = batch.is_empty();
            out.extend(batch.into_iter().filter(|c| c.vis_state != 1));
            if empty || page >= pages(&r) {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// Active clients whose e-mail equals `email` (`search[email]`; FreshBooks allows duplicates).
    ///
    /// # Errors
    /// HTTP errors.
    pub async fn find_clients_by_email(&self, email: &str) -> Result<Vec<FbClient>> {
        let what = "find freshbooks clients by email";
        let found = self.search_clients(what, ("email", email)).await?;
        Ok(found
            .into_iter()
            .filter(|c| {
                c.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .collect())
    }

    /// Active clients whose note contains `marker` (`search[note_like]`, checked again on our side).
    ///
    /// # Errors
    /// HTTP errors.
    pub async fn find_clients_by_marker(&self, marker: &str) -> Result<Vec<FbClient>> {
        let what = "find freshbooks clients by marker";
        let found = self.search_clients(what, ("note_like", marker)).await?;
        Ok(found
            .into_iter()
            .filter(|c| c.note.as_deref().is_some_and(|n| n.contains(marker)))
            .collect())
    }

    /// `POST users/clients`.
    ///
    /// # Errors
    /// HTTP errors (check `outcome_unknown`); [`crate::Error::Refused`] on validation errors.
    pub async fn create_client(&self, draft: &ClientDraft) -> Result<FbClient> {
        let what = "create freshbooks client";
        let r = self
            .accounting(
                what,
                Method::POST,
                "users/clients",
                &[],
                Some(&client_body(draft)),
            )
            .await?;
        take(what, &r, "client")
    }

    /// `PUT users/clients/<id>` with Ferry's fields (a partial update).
    ///
    /// # Errors
    /// HTTP errors; [`crate::Error::NotFound`].
    pub async fn update_client(&self, id: i64, draft: &ClientDraft) -> Result<FbClient> {
        let what = format!("update freshbooks client {id}");
        let path = format!("users/clients/{id}");
        let r = self
            .accounting(&what, Method::PUT, &path, &[], Some(&client_body(draft)))
            .await?;
        take(&what, &r, "client")
    }
}
