//! The marketing-segment enrichment simulator over real HTTP: the API key is required, segments are deterministic
//! per key, unknown kinds are 404, and faults are injected in front of the service.

use std::time::{Duration, Instant};

use ferry_sim::enrichment::{
    EnrichmentHandle, EnrichmentSim, EnrichmentSimConfig, SEGMENTS, segment_for,
};
use serde_json::Value;

const KEY: &str = "test-enrichment-key";

async fn start() -> anyhow::Result<EnrichmentHandle> {
    Ok(EnrichmentSim::start(EnrichmentSimConfig {
        api_key: KEY.to_owned(),
        ..EnrichmentSimConfig::default()
    })
    .await?)
}

/// `GET /v1/{kind}/{key}` with an optional bearer key; returns the status and the JSON body.
async fn get(
    sim: &EnrichmentHandle,
    kind: &str,
    key: &str,
    api_key: Option<&str>,
) -> anyhow::Result<(u16, Value)> {
    let mut url = reqwest::Url::parse(&sim.base_url())?;
    url.path_segments_mut()
        .map_err(|()| anyhow::anyhow!("base url cannot have a path"))?
        .extend(["v1", kind, key]);
    let mut req = reqwest::Client::new().get(url);
    if let Some(k) = api_key {
        req = req.bearer_auth(k);
    }
    let reply = req.send().await?;
    let status = reply.status().as_u16();
    let body = serde_json::from_str(&reply.text().await?)?;
    Ok((status, body))
}

#[tokio::test]
async fn a_lookup_with_the_api_key_returns_the_segment_of_the_email() -> anyhow::Result<()> {
    let sim = start().await?;
    let (status, body) = get(&sim, "segment", "ada@example.com", Some(KEY)).await?;
    assert_eq!(status, 200, "{body}");
    let segment = body["attributes"]["segment"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no segment in {body}"))?;
    assert_eq!(segment, segment_for("ada@example.com"));
    assert!(SEGMENTS.contains(&segment));
    assert_eq!(sim.requests(), 1);
    Ok(())
}

#[tokio::test]
async fn a_missing_or_wrong_api_key_is_refused_with_401() -> anyhow::Result<()> {
    let sim = start().await?;
    for key in [None, Some("wrong-key")] {
        let (status, body) = get(&sim, "segment", "ada@example.com", key).await?;
        assert_eq!(status, 401, "{key:?}: {body}");
        assert_eq!(body["error"]["code"], "unauthorized");
        assert!(body.get("attributes").is_none());
    }
    Ok(())
}

#[tokio::test]
async fn segments_are_the_same_in_every_run_and_on_every_server() -> anyhow::Result<()> {
    let (a, b) = (start().await?, start().await?);
    for i in 0..20 {
        let email = format!("customer{i}@example.com");
        let (_, first) = get(&a, "segment", &email, Some(KEY)).await?;
        let (_, again) = get(&a, "segment", &email, Some(KEY)).await?;
        let (_, other) = get(&b, "segment", &email, Some(KEY)).await?;
        assert_eq!(first, again);
        assert_eq!(first, other);
        assert_eq!(first["attributes"]["segment"], segment_for(&email));
    }
    Ok(())
}

#[tokio::test]
async fn an_unknown_kind_is_404_with_the_known_kinds_named() -> anyhow::Result<()> {
    let sim = start().await?;
    let (status, body) = get(&sim, "credit-score", "ada@example.com", Some(KEY)).await?;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "unknown_kind");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("segment"), "{message}");
    Ok(())
}

#[tokio::test]
async fn injected_5xx_and_latency_come_before_the_service() -> anyhow::Result<()> {
    let sim = start().await?;
    sim.faults().fail_next(2, 503);
    for _ in 0..2 {
        let (status, body) = get(&sim, "segment", "ada@example.com", Some(KEY)).await?;
        assert_eq!(status, 503);
        assert!(body["error"]["code"].is_string(), "{body}");
    }
    assert_eq!(
        sim.requests(),
        0,
        "faulted requests never reach the service"
    );
    let (status, _) = get(&sim, "segment", "ada@example.com", Some(KEY)).await?;
    assert_eq!(status, 200);
    assert_eq!(sim.requests(), 1);

    sim.faults()
        .set_latency(Duration::from_millis(200), Duration::ZERO);
    let started = Instant::now();
    let (status, _) = get(&sim, "segment", "ada@example.com", Some(KEY)).await?;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(sim.faults().counters().failed_next, 2);
    Ok(())
}
