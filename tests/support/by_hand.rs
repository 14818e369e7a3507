//! What a person does in FreshBooks by hand, through FreshBooks' own API with the business owner's token (not
//! Ferry's): the changes the books audit must find.

use crate::TestApp;
use serde_json::Value;

/// A person's call to the FreshBooks simulator's accounting API (`path` under `accounting/account/{id}/`); panics
/// unless FreshBooks accepts it.
pub async fn freshbooks(app: &TestApp, method: reqwest::Method, path: &str, body: Value) -> Value {
    let token = app.sandbox.person_token().expect("the owner's token");
    let url = format!(
        "{}/accounting/account/{}/{path}",
        app.sandbox.freshbooks.base_url(),
        app.sandbox.account_id
    );
    let mut request = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token);
    if !body.is_null() {
        request = request.json(&body);
    }
    let reply = request.send().await.expect("freshbooks answers");
    assert!(reply.status().is_success(), "{}", reply.status());
    reply.json().await.expect("json")
}

/// Deletes invoice `id` as a person does (`vis_state` 1).
pub async fn delete_invoice(app: &TestApp, id: u64) {
    freshbooks(
        app,
        reqwest::Method::PUT,
        &format!("invoices/invoices/{id}"),
        serde_json::json!({"invoice": {"vis_state": 1}}),
    )
    .await;
}
