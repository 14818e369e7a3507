//! Webhooks posted by hand, signed as the Kentico module signs them (Standard Webhooks).

/// Posts `body` under event id `id` to `url`, signed with the `whsec_…` `secret` and the current time.
///
/// # Panics
/// When `secret` does not decode or the host cannot be reached.
pub async fn post_signed(url: &str, secret: &str, id: &str, body: &str) -> reqwest::Response {
    let key = ferry_ingest::decode_whsec(secret).expect("webhook secret decodes");
    let ts = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
    let signature = ferry_ingest::sign(&key, id, &ts, body.as_bytes());
    reqwest::Client::new()
        .post(url)
        .header(ferry_ingest::HEADER_ID, id)
        .header(ferry_ingest::HEADER_TIMESTAMP, ts)
        .header(ferry_ingest::HEADER_SIGNATURE, signature)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("host reachable")
}
