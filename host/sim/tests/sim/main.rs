//! The simulators over real HTTP, as one test binary (Wasmtime's `tests/all` pattern): `enrichment` (the
//! segment-enrichment service), `exchange` (the ECB feeds), `faults` (each fault mode), `freshbooks` (the
//! accounting API, with its invoice, payment and credit lifecycle under `freshbooks/`), `freshbooks_fixtures`
//! (SDK fixtures and recordings against the simulator's model), `kentico` (REST, mutations, webhooks),
//! `kentico_stock` (stock taken and returned by orders) and `kentico_writes` (`PUT` of orders and its permission
//! model).
//! The recorded replies stay in `tests/fixtures/`.

mod enrichment;
mod exchange;
mod faults;
mod freshbooks;
mod freshbooks_fixtures;
mod kentico;
mod kentico_stock;
mod kentico_writes;

/// `GET /rest/<path>?format=json` on the Kentico simulator as the default REST user; the body as JSON.
pub(crate) async fn kentico_rest_json(
    sim: &ferry_sim::kentico::KenticoHandle,
    path: &str,
) -> anyhow::Result<serde_json::Value> {
    Ok(reqwest::Client::new()
        .get(format!("{}/rest/{path}?format=json", sim.base_url()))
        .basic_auth("ferry", Some("sandbox"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}
