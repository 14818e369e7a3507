//! The FreshBooks simulator over real HTTP: envelopes, filters, paging, auth, token rotation, rate limits,
//! invoices and payments, faults and inspection.

use std::time::Duration;

use ferry_sim::freshbooks::{
    FreshBooksHandle, FreshBooksSim, FreshBooksSimConfig, RateLimit, SimAccount,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Ctx {
    sim: FreshBooksHandle,
    http: reqwest::Client,
    account: SimAccount,
    token: String,
}

impl Ctx {
    async fn start(config: FreshBooksSimConfig) -> anyhow::Result<Self> {
        let sim = FreshBooksSim::start(config).await?;
        let (account, tokens) = sim.create_account_with_tokens("Acme Widgets", "USD");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            sim,
            http,
            account,
            token: tokens.access_token,
        })
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/accounting/account/{}/{path}",
            self.sim.base_url(),
            self.account.account_id
        )
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> anyhow::Result<(StatusCode, Value)> {
        let response = req.bearer_auth(&self.token).send().await?;
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    async fn get(&self, path: &str) -> anyhow::Result<(StatusCode, Value)> {
        self.send(self.http.get(self.url(path))).await
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<(StatusCode, Value)> {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    async fn put(&self, path: &str, body: Value) -> anyhow::Result<(StatusCode, Value)> {
        self.send(self.http.put(self.url(path)).json(&body)).await
    }

    async fn create_client(&self, email: &str) -> anyhow::Result<u64> {
        let (status, body) = self
            .post(
                "users/clients",
                json!({"client": {"email": email, "fname": "Ada", "lname": "Lovelace"}}),
            )
            .await?;
        assert_eq!(status, 200, "{body}");
        body["response"]["result"]["client"]["id"]
            .as_u64()
            .ok_or_else(|| anyhow::anyhow!("no id in {body}"))
    }
}

#[tokio::test]
async fn identity_lists_business_memberships_with_account_id() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let r = c
        .http
        .get(format!("{}/auth/api/v1/users/me", c.sim.base_url()))
        .bearer_auth(&c.token)
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await?;
    let business = &body["response"]["business_memberships"][0]["business"];
    assert_eq!(business["account_id"], c.account.account_id.as_str());
    assert_eq!(business["id"], c.account.business_id);
    let anonymous = c
        .http
        .get(format!("{}/auth/api/v1/users/me", c.sim.base_url()))
        .send()
        .await?;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.json::<Value>().await?["error"], "unauthenticated");
    Ok(())
}

#[tokio::test]
async fn wrong_expired_or_foreign_tokens_get_401_errno_1003() -> anyhow::Result<()> {
    let mut c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let good = c.token.clone();
    c.token = "nonsense".into();
    let (status, body) = c.get("users/clients").await?;
    assert_eq!(status, 401);
    assert_eq!(body["response"]["errors"][0]["errno"], 1003);
    let (_, other_tokens) = c.sim.create_account_with_tokens("Other Co", "EUR");
    c.token = other_tokens.access_token;
    assert_eq!(
        c.get("users/clients").await?.0,
        401,
        "a token of another business cannot reach this account"
    );
    c.token = good;
    assert_eq!(c.get("users/clients").await?.0, 200);
    c.sim.expire_access_tokens(Some(c.account.identity_id));
    let (status, body) = c.get("users/clients").await?;
    assert_eq!(status, 401);
    assert_eq!(body["response"]["errors"][0]["errno"], 1003);
    Ok(())
}

#[tokio::test]
async fn authorization_code_flow_auto_approves_and_issues_12_hour_tokens() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig {
        auto_approve: true,
        ..Default::default()
    })
    .await?;
    let r = c
        .http
        .get(format!("{}/oauth/authorize", c.sim.base_url()))
        .query(&[
            ("client_id", "ferry"),
            ("response_type", "code"),
            ("redirect_uri", "https://ferry.example/callback"),
            ("state", "xyz"),
            ("account_id", c.account.account_id.as_str()),
        ])
        .send()
        .await?;
    assert!(r.status().is_redirection());
    let location = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        location.starts_with("https://ferry.example/callback?code="),
        "{location}"
    );
    assert!(location.ends_with("&state=xyz"));
    let code = location
        .split("code=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap_or_default();
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", "ferry"),
        ("client_secret", "s"),
        ("redirect_uri", "https://ferry.example/callback"),
        ("code", code),
    ];
    let token = c
        .http
        .post(format!("{}/auth/oauth/token", c.sim.base_url()))
        .form(&form)
        .send()
        .await?;
    assert_eq!(token.status(), 200);
    let token: Value = token.json().await?;
    assert_eq!(token["expires_in"], 43_200);
    assert_eq!(token["token_type"], "Bearer");
    let again = c
        .http
        .post(format!("{}/auth/oauth/token", c.sim.base_url()))
        .form(&form)
        .send()
        .await?;
    assert_eq!(again.status(), 400, "codes are single-use");
    Ok(())
}

/// The value of `name="<field>" value="…"` in the first form of `html` that contains `marker`.
fn form_field(html: &str, marker: &str, field: &str) -> Option<String> {
    let form = html.split("<form").find(|f| f.contains(marker))?;
    let at = form.find(&format!("name=\"{field}\" value=\""))? + field.len() + 15;
    Some(form[at..].split('"').next()?.replace("&amp;", "&"))
}

#[tokio::test]
async fn the_authorize_page_is_clicked_through_and_the_exchange_checks_client_redirect_and_pkce()
-> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig {
        client_credentials: Some(("ferry".into(), "s".into())),
        ..Default::default()
    })
    .await?;
    let redirect = "https://ferry.example/oauth/freshbooks/callback";
    c.sim.register_redirect_uri(redirect);
    let verifier = "a-verifier-of-the-required-length-0123456789";
    let challenge = {
        use base64::Engine as _;
        use sha2::Digest as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
    };
    let authorize = |client: &str, redirect: &str| {
        c.http
            .get(format!("{}/oauth/authorize", c.sim.base_url()))
            .query(&[
                ("client_id", client),
                ("response_type", "code"),
                ("redirect_uri", redirect),
                ("state", "xyz"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ])
    };
    // What FreshBooks checks before showing the page.
    let unknown = authorize("someone-else", redirect).send().await?;
    assert_eq!(unknown.status(), 400);
    assert!(unknown.text().await?.contains("unknown client_id"));
    let unregistered = authorize("ferry", "https://evil.example/cb").send().await?;
    assert_eq!(unregistered.status(), 400);
    assert!(unregistered.text().await?.contains("not registered"));

    let page = authorize("ferry", redirect).send().await?;
    assert_eq!(page.status(), 200, "no auto-approve: the page is shown");
    let html = page.text().await?;
    assert!(html.contains("Allow as") && html.contains("Deny"), "{html}");
    let fields = [
        "client_id",
        "redirect_uri",
        "state",
        "code_challenge",
        "code_challenge_method",
        "identity_id",
    ];
    let mut form: Vec<(&str, String)> = fields
        .iter()
        .map(|f| (*f, form_field(&html, "Allow as", f).unwrap_or_default()))
        .collect();
    form.push(("decision", "allow".into()));
    let allowed = c
        .http
        .post(format!("{}/oauth/authorize", c.sim.base_url()))
        .form(&form)
        .send()
        .await?;
    assert!(allowed.status().is_redirection());
    let location = allowed.headers()["location"].to_str()?.to_owned();
    assert!(
        location.starts_with(&format!("{redirect}?code=")),
        "{location}"
    );
    assert!(location.ends_with("&state=xyz"), "{location}");
    let code = location
        .split("code=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap_or_default();
    let recorded = c.sim.authorizations();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].client_id.as_deref(), Some("ferry"));
    assert_eq!(recorded[0].redirect_uri, redirect);
    assert_eq!(recorded[0].pkce_method.as_deref(), Some("S256"));

    let exchange = |code: &str, redirect: &str, verifier: &str| {
        c.http
            .post(format!("{}/auth/oauth/token", c.sim.base_url()))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", "ferry"),
                ("client_secret", "s"),
                ("redirect_uri", redirect),
                ("code", code),
                ("code_verifier", verifier),
            ])
            .send()
    };
    let wrong = exchange(code, redirect, "not-the-verifier").await?;
    assert_eq!(wrong.status(), 400);
    let body: Value = wrong.json().await?;
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("code_verifier")
    );
    // The refused exchange spent the code: a code is single-use, whatever its first exchange did.
    assert_eq!(exchange(code, redirect, verifier).await?.status(), 400);

    // A second authorization: another redirect URI at the exchange is refused, the right one accepted once.
    let allowed = c
        .http
        .post(format!("{}/oauth/authorize", c.sim.base_url()))
        .form(&form)
        .send()
        .await?;
    let location = allowed.headers()["location"].to_str()?.to_owned();
    let code = location
        .split("code=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap_or_default()
        .to_owned();
    let other = exchange(&code, "https://ferry.example/other", verifier).await?;
    assert_eq!(other.status(), 400);
    let allowed = c
        .http
        .post(format!("{}/oauth/authorize", c.sim.base_url()))
        .form(&form)
        .send()
        .await?;
    let location = allowed.headers()["location"].to_str()?.to_owned();
    let code = location
        .split("code=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(exchange(&code, redirect, verifier).await?.status(), 200);
    assert_eq!(
        exchange(&code, redirect, verifier).await?.status(),
        400,
        "single use"
    );

    // "Deny" sends the user back with access_denied and the state.
    form.retain(|(k, _)| *k != "decision" && *k != "identity_id");
    form.push(("decision", "deny".into()));
    let denied = c
        .http
        .post(format!("{}/oauth/authorize", c.sim.base_url()))
        .form(&form)
        .send()
        .await?;
    let location = denied.headers()["location"].to_str()?.to_owned();
    assert_eq!(
        location,
        format!("{redirect}?error=access_denied&state=xyz")
    );
    Ok(())
}

#[tokio::test]
async fn revoked_tokens_are_refused_by_the_api_and_the_token_endpoint() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let pair = c
        .sim
        .issue_tokens(c.account.identity_id)
        .ok_or_else(|| anyhow::anyhow!("no identity"))?;
    assert!(c.sim.revoke_tokens(&c.account.account_id) >= 2);
    let (status, _) = c.get("users/clients").await?;
    assert_eq!(status, 401);
    let refresh = c
        .http
        .post(format!("{}/auth/oauth/token", c.sim.base_url()))
        .json(&json!({"grant_type": "refresh_token", "refresh_token": pair.refresh_token}))
        .send()
        .await?;
    assert_eq!(refresh.status(), 400);
    Ok(())
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_fails_with_invalid_grant() -> anyhow::Result<()>
{
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let first = c
        .sim
        .issue_tokens(c.account.identity_id)
        .ok_or_else(|| anyhow::anyhow!("no identity"))?;
    let url = format!("{}/auth/oauth/token", c.sim.base_url());
    let refresh = |token: &str| {
        c.http.post(&url).json(
            &json!({"grant_type": "refresh_token", "refresh_token": token, "client_id": "ferry"}),
        )
    };
    let second: Value = refresh(&first.refresh_token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_ne!(second["refresh_token"], first.refresh_token.as_str());
    let reused = refresh(&first.refresh_token).send().await?;
    assert_eq!(reused.status(), 400);
    assert_eq!(reused.json::<Value>().await?["error"], "invalid_grant");
    let new_refresh = second["refresh_token"].as_str().unwrap_or_default();
    assert_eq!(refresh(new_refresh).send().await?.status(), 200);
    Ok(())
}

#[tokio::test]
async fn clients_create_get_update_and_unknown_id_is_404_errno_1012() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let id = c.create_client("ada@example.com").await?;
    let (status, body) = c.get(&format!("users/clients/{id}")).await?;
    assert_eq!(status, 200);
    let client = &body["response"]["result"]["client"];
    assert_eq!(
        (client["userid"].as_u64(), client["organization"].as_str()),
        (Some(id), Some(""))
    );
    assert_eq!(client["currency_code"], "USD");
    let (_, body) = c
        .put(
            &format!("users/clients/{id}"),
            json!({"client": {"note": "vip"}}),
        )
        .await?;
    assert_eq!(body["response"]["result"]["client"]["note"], "vip");
    assert_eq!(
        body["response"]["result"]["client"]["email"], "ada@example.com",
        "PUT is a partial merge"
    );
    let bad = c
        .http
        .post(c.url("users/clients"))
        .bearer_auth(&c.token)
        .body("{not json")
        .send()
        .await?;
    assert_eq!(
        bad.headers()
            .get("x-api-version")
            .and_then(|v| v.to_str().ok()),
        Some("2023-02-20")
    );
    assert_eq!(bad.status(), 422);
    assert_eq!(
        bad.json::<Value>().await?["response"]["errors"][0]["errno"],
        1005
    );
    let (status, body) = c.get("users/clients/12345").await?;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"response": {"errors": [{"errno": 1012, "field": "userid", "message": "Client not found.", "object": "client", "value": "12345"}]}})
    );
    Ok(())
}

#[tokio::test]
async fn duplicate_emails_are_accepted_and_found_by_search_email() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    c.create_client("dup@example.com").await?;
    c.create_client("dup@example.com").await?;
    c.create_client("other@example.com").await?;
    let (_, body) = c
        .get("users/clients?search%5Bemail%5D=dup%40example.com")
        .await?;
    assert_eq!(body["response"]["result"]["total"], 2);
    let (_, body) = c.get("users/clients?search[user_like]=lovel").await?;
    assert_eq!(body["response"]["result"]["total"], 3);
    assert_eq!(c.sim.clients(&c.account.account_id).len(), 3);
    Ok(())
}

#[tokio::test]
async fn lists_page_newest_first_with_defaults_caps_and_errors() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let mut ids = Vec::new();
    for n in 0..17 {
        ids.push(c.create_client(&format!("c{n}@example.com")).await?);
    }
    let (_, body) = c.get("users/clients").await?;
    let result = &body["response"]["result"];
    assert_eq!(
        (result["page"].as_u64(), result["pages"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(
        (result["per_page"].as_u64(), result["total"].as_u64()),
        (Some(15), Some(17))
    );
    assert_eq!(
        result["clients"][0]["id"].as_u64(),
        ids.last().copied(),
        "newest first"
    );
    let (_, body) = c.get("users/clients?page=2").await?;
    assert_eq!(
        body["response"]["result"]["clients"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let (_, body) = c.get("users/clients?per_page=500").await?;
    assert_eq!(body["response"]["result"]["per_page"], 100);
    let (_, body) = c.get("users/clients?page=9").await?;
    assert_eq!(body["response"]["result"]["clients"], json!([]));
    let (status, body) = c.get("users/clients?page=abc").await?;
    assert_eq!(status, 422);
    assert_eq!(body["response"]["errors"][0]["errno"], 1014);
    let (_, body) = c.get("payments/payments").await?;
    assert_eq!(
        body["response"]["result"],
        json!({"payments": [], "page": 1, "pages": 0, "per_page": 15, "total": 0})
    );
    Ok(())
}

#[tokio::test]
async fn deleting_by_vis_state_hides_from_lists_and_discards_other_fields() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let id = c.create_client("gone@example.com").await?;
    let (_, body) = c
        .put(
            &format!("users/clients/{id}"),
            json!({"client": {"vis_state": 1, "note": "ignored"}}),
        )
        .await?;
    assert_eq!(body["response"]["result"]["client"]["vis_state"], 1);
    assert_eq!(body["response"]["result"]["client"]["note"], Value::Null);
    assert_eq!(
        c.get("users/clients").await?.1["response"]["result"]["total"],
        0
    );
    assert_eq!(
        c.get("users/clients?search[vis_state]=1").await?.1["response"]["result"]["total"],
        1
    );
    assert_eq!(c.get(&format!("users/clients/{id}")).await?.0, 200);
    Ok(())
}

#[tokio::test]
async fn items_search_by_sku_and_taxes_create_list_delete() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    for (name, sku) in [("Bowl", "B-1"), ("Mug", "M-1")] {
        let (status, body) = c
            .post("items/items", json!({"item": {"name": name, "sku": sku, "qty": 3, "unit_cost": {"amount": "5", "code": "USD"}}}))
            .await?;
        assert_eq!(status, 200);
        assert_eq!(body["response"]["result"]["item"]["qty"], "3");
        assert_eq!(
            body["response"]["result"]["item"]["unit_cost"]["amount"],
            "5.00"
        );
    }
    let (_, body) = c.get("items/items?search[sku]=M-1").await?;
    assert_eq!(body["response"]["result"]["items"][0]["name"], "Mug");
    assert_eq!(body["response"]["result"]["total"], 1);
    let (_, body) = c.get("items/items?search[name]=Mug").await?;
    assert_eq!(
        body["response"]["result"]["total"], 2,
        "search[name] is undocumented and ignored"
    );
    let (status, body) = c.post("items/items", json!({"item": {"sku": "X"}})).await?;
    assert_eq!(
        (
            status.as_u16(),
            body["response"]["errors"][0]["errno"].as_u64()
        ),
        (422, Some(1001))
    );
    let (_, body) = c
        .post(
            "taxes/taxes",
            json!({"tax": {"name": "HST", "amount": "13", "number": "RT 1"}}),
        )
        .await?;
    let tax_id = body["response"]["result"]["tax"]["taxid"]
        .as_u64()
        .unwrap_or_default();
    assert_eq!(
        c.get("taxes/taxes?search[name]=hs").await?.1["response"]["result"]["total"],
        1
    );
    let (status, body) = c
        .send(c.http.delete(c.url(&format!("taxes/taxes/{tax_id}"))))
        .await?;
    assert_eq!((status.as_u16(), body), (200, json!({"response": {}})));
    assert!(c.sim.taxes(&c.account.account_id).is_empty());
    Ok(())
}

#[tokio::test]
async fn invoice_totals_lines_include_and_payment_status_transitions() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let customer = c.create_client("buyer@example.com").await?;
    c.post(
        "taxes/taxes",
        json!({"tax": {"name": "HST", "amount": "13", "number": "RT"}}),
    )
    .await?;
    let lines = json!([
        {"type": 0, "name": "Bowls", "qty": 4, "unit_cost": {"amount": "5.00", "code": "CAD"}, "taxName1": "HST", "taxAmount1": "13"},
        {"type": 0, "name": "Mugs", "qty": "6", "unit_cost": {"amount": "4.00", "code": "CAD"}}
    ]);
    let invoice = json!({"invoice": {"customerid": customer, "create_date": "2024-01-15", "due_offset_days": 30,
        "currency_code": "CAD", "discount_value": "10", "po_number": "ORD-1", "lines": lines}});
    let (status, body) = c.post("invoices/invoices", invoice).await?;
    assert_eq!(status, 200);
    let inv = &body["response"]["result"]["invoice"];
    assert_eq!(inv["amount"], json!({"amount": "41.94", "code": "CAD"}));
    assert_eq!(inv["discount_total"]["amount"], "-4.40");
    assert_eq!(
        (inv["status"].as_i64(), inv["v3_status"].as_str()),
        (Some(1), Some("draft"))
    );
    assert_eq!(
        (inv["invoice_number"].as_str(), inv["due_date"].as_str()),
        (Some("0000001"), Some("2024-02-14"))
    );
    assert!(
        inv.get("lines").is_none(),
        "lines only with include[]=lines"
    );
    let id = inv["id"].as_u64().unwrap_or_default();
    let (_, body) = c
        .get(&format!("invoices/invoices/{id}?include[]=lines"))
        .await?;
    let line = &body["response"]["result"]["invoice"]["lines"][0];
    assert_eq!(
        (line["qty"].as_str(), line["taxNumber1"].as_str()),
        (Some("4"), Some("RT"))
    );
    assert_eq!(
        c.get("invoices/invoices?search[po_number]=ORD-1").await?.1["response"]["result"]["total"],
        1
    );

    let (_, body) = c
        .put(
            &format!("invoices/invoices/{id}"),
            json!({"invoice": {"action_mark_as_sent": true}}),
        )
        .await?;
    assert_eq!(body["response"]["result"]["invoice"]["v3_status"], "sent");
    assert_eq!(body["response"]["result"]["invoice"]["status"], 2);

    let pay = |amount: &str| json!({"payment": {"invoiceid": id, "amount": {"amount": amount}, "date": "2024-01-20", "type": "Check"}});
    let (_, body) = c.post("payments/payments", pay("20.00")).await?;
    assert_eq!(body["response"]["result"]["payment"]["clientid"], customer);
    assert_eq!(
        body["response"]["result"]["payment"]["amount"],
        json!({"amount": "20.00", "code": "CAD"})
    );
    let inv =
        c.get(&format!("invoices/invoices/{id}")).await?.1["response"]["result"]["invoice"].clone();
    assert_eq!(
        (inv["status"].as_i64(), inv["v3_status"].as_str()),
        (Some(2), Some("partial"))
    );
    assert_eq!(
        (
            inv["paid"]["amount"].as_str(),
            inv["outstanding"]["amount"].as_str()
        ),
        (Some("20.00"), Some("21.94"))
    );
    c.post("payments/payments", pay("21.94")).await?;
    let inv =
        c.get(&format!("invoices/invoices/{id}")).await?.1["response"]["result"]["invoice"].clone();
    assert_eq!(
        (inv["status"].as_i64(), inv["v3_status"].as_str()),
        (Some(4), Some("paid"))
    );
    assert_eq!(inv["date_paid"], "2024-01-20");
    let (_, body) = c
        .get(&format!("payments/payments?search[invoiceid]={id}"))
        .await?;
    assert_eq!(body["response"]["result"]["total"], 2);
    Ok(())
}

#[tokio::test]
async fn rate_limit_answers_429_per_account_with_retry_after() -> anyhow::Result<()> {
    let limit = RateLimit {
        requests: 3,
        window: Duration::from_secs(60),
    };
    let c = Ctx::start(FreshBooksSimConfig {
        rate_limit: Some(limit),
        ..Default::default()
    })
    .await?;
    for _ in 0..3 {
        assert_eq!(c.get("users/clients").await?.0, 200);
    }
    let r = c
        .http
        .get(c.url("users/clients"))
        .bearer_auth(&c.token)
        .send()
        .await?;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    assert_eq!(
        r.json::<Value>().await?["response"]["errors"][0]["errno"],
        429
    );
    let (other, tokens) = c.sim.create_account_with_tokens("Other Co", "USD");
    let url = format!(
        "{}/accounting/account/{}/users/clients",
        c.sim.base_url(),
        other.account_id
    );
    assert_eq!(
        c.http
            .get(url)
            .bearer_auth(tokens.access_token)
            .send()
            .await?
            .status(),
        200
    );
    Ok(())
}

/// A client that waits the `Retry-After` it was given finds the window reset: the header never names a time before
/// the limit lifts (a whole number of seconds, rounded up from the time the window has left).
#[tokio::test]
async fn waiting_the_retry_after_of_a_429_is_enough() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig {
        rate_limit: Some(RateLimit {
            requests: 1,
            window: Duration::from_secs(3),
        }),
        ..Default::default()
    })
    .await?;
    assert_eq!(c.get("users/clients").await?.0, 200);
    // 1.5 s into the window: 1.5 s left, which a header rounded down would give as 1.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let send = || {
        c.http
            .get(c.url("users/clients"))
            .bearer_auth(&c.token)
            .send()
    };
    let throttled = send().await?;
    assert_eq!(throttled.status(), 429);
    let wait: u64 = throttled.headers()["retry-after"].to_str()?.parse()?;
    assert!(wait >= 1, "{wait}");
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(send().await?.status(), 200, "told to wait {wait} s");
    Ok(())
}

#[tokio::test]
async fn dropped_reply_still_creates_the_client_and_inspection_shows_it() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    c.sim.faults().drop_reply_next(1);
    let lost = c
        .http
        .post(c.url("users/clients"))
        .bearer_auth(&c.token)
        .json(&json!({"client": {"email": "x@example.com"}}))
        .send()
        .await;
    assert!(lost.is_err(), "the client must not get an answer");
    assert_eq!(
        c.sim.clients(&c.account.account_id).len(),
        1,
        "the create was committed"
    );
    let summary: Value = c
        .http
        .get(format!(
            "{}/_sim/freshbooks/accounts/{}",
            c.sim.base_url(),
            c.account.account_id
        ))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(summary["clients"], 1);
    let listed: Value = c
        .http
        .get(format!(
            "{}/_sim/freshbooks/accounts/{}/clients",
            c.sim.base_url(),
            c.account.account_id
        ))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(listed[0]["email"], "x@example.com");
    c.sim.faults().fail_next(1, 503);
    let (status, body) = c.get("users/clients").await?;
    assert_eq!(status, 503);
    assert_eq!(
        body["response"]["errors"][0]["errno"], 500,
        "injected 5xx use the accounting envelope"
    );
    Ok(())
}

#[tokio::test]
async fn accounts_created_over_inspection_api_get_working_tokens() -> anyhow::Result<()> {
    let c = Ctx::start(FreshBooksSimConfig::default()).await?;
    let created: Value = c
        .http
        .post(format!("{}/_sim/freshbooks/accounts", c.sim.base_url()))
        .json(&json!({"name": "Tenant B", "currency": "EUR", "account_id": "TenB01"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_eq!(created["account"]["account_id"], "TenB01");
    let token = created["tokens"]["access_token"]
        .as_str()
        .unwrap_or_default();
    let url = format!(
        "{}/accounting/account/TenB01/users/clients",
        c.sim.base_url()
    );
    let r = c
        .http
        .post(url)
        .bearer_auth(token)
        .json(&json!({"client": {"email": "e@x.eu"}}))
        .send()
        .await?;
    let body: Value = r.json().await?;
    assert_eq!(body["response"]["result"]["client"]["currency_code"], "EUR");
    let accounts: Value = c
        .http
        .get(format!("{}/_sim/freshbooks/accounts", c.sim.base_url()))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(accounts.as_array().map(Vec::len), Some(2));
    Ok(())
}

// Shapes and rules for what shops' orders need once an invoice exists: totals, edits, cancellation, credit and
// payments (docs/freshbooks.md §6.3–§6.7 and its lifecycle part).
mod callbacks;
mod credits;
mod invoices;
mod payments;

/// Helpers the lifecycle modules share.
impl Ctx {
    async fn delete(&self, path: &str) -> anyhow::Result<(StatusCode, Value)> {
        self.send(self.http.delete(self.url(path))).await
    }

    /// Creates an invoice for `customer` with `lines` and extra invoice keys; returns the reply's invoice.
    async fn create_invoice(
        &self,
        customer: u64,
        lines: Value,
        extra: Value,
    ) -> anyhow::Result<Value> {
        let mut invoice =
            json!({"customerid": customer, "create_date": "2024-03-01", "lines": lines});
        if let (Some(target), Some(extra)) = (invoice.as_object_mut(), extra.as_object()) {
            target.extend(extra.clone());
        }
        let (status, body) = self
            .post("invoices/invoices", json!({ "invoice": invoice }))
            .await?;
        assert_eq!(status, 200, "{body}");
        Ok(body["response"]["result"]["invoice"].clone())
    }

    /// Marks an invoice sent.
    async fn mark_sent(&self, id: u64) -> anyhow::Result<()> {
        let (status, body) = self
            .put(
                &format!("invoices/invoices/{id}"),
                json!({"invoice": {"action_mark_as_sent": true}}),
            )
            .await?;
        assert_eq!(status, 200, "{body}");
        Ok(())
    }

    /// Records a payment; returns status and body.
    async fn pay(
        &self,
        invoice: u64,
        amount: &str,
        kind: &str,
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.post(
            "payments/payments",
            json!({"payment": {"invoiceid": invoice, "amount": {"amount": amount}, "date": "2024-03-05", "type": kind}}),
        )
        .await
    }

    /// `GET invoices/invoices/<id>?include[]=lines`.
    async fn invoice(&self, id: u64) -> anyhow::Result<Value> {
        let (status, body) = self
            .get(&format!("invoices/invoices/{id}?include[]=lines"))
            .await?;
        assert_eq!(status, 200, "{body}");
        Ok(body["response"]["result"]["invoice"].clone())
    }

    /// The inspection view of an invoice over HTTP.
    async fn inspect_invoice(&self, id: u64) -> anyhow::Result<Value> {
        let url = format!(
            "{}/_sim/freshbooks/accounts/{}/invoices/{id}",
            self.sim.base_url(),
            self.account.account_id
        );
        Ok(self
            .http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }
}

/// The errno of an accounting error body.
fn errno(body: &Value) -> Option<u64> {
    body["response"]["errors"][0]["errno"].as_u64()
}
