//! `ferry demo`: the whole flow on the sandbox, under faults. It starts the simulators and a host serving a demo
//! tenant with the example plugins, places a batch of realistic orders in Kentico (several currencies, some
//! invalid) while FreshBooks fails, throttles, loses replies and goes down for a while, waits for everything to
//! settle, then counts what reached FreshBooks. The exit code is non-zero when an order was lost or duplicated.

use crate::app::App;
use crate::config::WorkerConfig;
use crate::sandbox::audit::{Audit, Placed};
use crate::sandbox::{Sandbox, SandboxOptions};
use anyhow::Context as _;
use clap::Args;
use ferry_model::TenantId;
use ferry_sim::kentico::{OrderEdit, OrderKinds, OrderMix};
use ferry_store::Store;
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tracing::info;

/// Flags of `ferry demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Orders to place during the demo.
    #[arg(long, default_value_t = 200)]
    pub orders: usize,
    /// Seed for the generated store and the faults.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Directory with the compiled example plugins (`*.wasm`).
    #[arg(long, default_value = "plugins/target/wasm32-wasip2/release")]
    pub plugins_dir: PathBuf,
    /// Seconds of FreshBooks outage injected mid-run.
    #[arg(long, default_value_t = 5)]
    pub outage_secs: u64,
    /// Port of the Kentico simulator (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub kentico_port: u16,
    /// Port of the FreshBooks simulator (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub freshbooks_port: u16,
    /// Port of the exchange-rate simulator (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub exchange_port: u16,
    /// Port of the segment-enrichment simulator (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub enrichment_port: u16,
    /// Port the demo's Ferry host listens on (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub ferry_port: u16,
    /// Where the run's logs go (JSON lines); default: `ferry-demo-<pid>.log` in the system's temporary directory.
    #[arg(long)]
    pub log_file: Option<PathBuf>,
}

/// How long the demo waits for the last order to settle before it reports what is missing.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(300);

/// What happened to the demo's orders (counted from FreshBooks and the store) and what the run went through.
#[derive(Debug, Default)]
pub struct DemoReport {
    /// Orders, invoices, duplicates, losses and dead letters.
    pub audit: Audit,
    /// Attempts that were retried.
    pub retries: u64,
    /// Times a circuit breaker opened.
    pub breaker_openings: u64,
    /// Events enqueued by polling because their webhook never came.
    pub reconciled: u64,
    /// Webhooks the Kentico sender skipped on purpose.
    pub webhooks_skipped: u64,
    /// Faults FreshBooks injected: 5xx, lost replies, 429s, outage answers.
    pub faults: String,
    /// From the first order placed to the last one settled.
    pub elapsed: Duration,
    /// Whether everything settled before the timeout.
    pub settled: bool,
    /// The SQLite file the host used.
    pub store_path: PathBuf,
    /// What was changed in Kentico once the orders were invoiced.
    pub after_invoicing: String,
    /// Payments recorded in FreshBooks and written back to Kentico.
    pub payments_back: crate::sandbox::writeback::WritebackReport,
    /// The books audit of the demo tenant, run last (none when the orders did not settle).
    pub books: Option<ferry_model::AuditReport>,
    /// The catalogue: Kentico's SKUs as FreshBooks items with their stock.
    pub catalogue: crate::sandbox::catalogue::CatalogueReport,
}

impl DemoReport {
    /// Settled, nothing lost, nothing duplicated, every invalid order stopped.
    pub fn is_clean(&self) -> bool {
        self.settled
            && self.audit.is_clean()
            && self.catalogue.is_clean()
            && self.payments_back.is_clean()
            && self
                .books
                .as_ref()
                .is_some_and(ferry_model::AuditReport::is_clean)
    }
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.audit;
        writeln!(f, "Ferry demo summary")?;
        writeln!(
            f,
            "  orders placed ........ {} ({} in a foreign currency, {} invalid on purpose)",
            a.placed, a.foreign_currency, a.invalid
        )?;
        writeln!(f, "  invoices created ..... {}", a.invoiced)?;
        writeln!(
            f,
            "  in FreshBooks ........ {} clients, {} items, {} payments",
            a.clients, a.items, a.payments
        )?;
        writeln!(
            f,
            "  duplicates ........... {} (invoices {}, clients {}, payments {}, items/taxes {})",
            a.duplicate_invoices
                + a.duplicate_clients
                + a.duplicate_payments
                + a.duplicate_items_and_taxes,
            a.duplicate_invoices,
            a.duplicate_clients,
            a.duplicate_payments,
            a.duplicate_items_and_taxes
        )?;
        writeln!(
            f,
            "  amounts .............. {} invoices equal their Kentico totals to the cent, {} differ",
            a.amounts_equal,
            a.amounts_differ.len()
        )?;
        for m in a.amounts_differ.iter().take(10) {
            writeln!(f, "      {m}")?;
        }
        let mix: Vec<String> = a.kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        writeln!(f, "  order mix ............ {}", mix.join(", "))?;
        writeln!(
            f,
            "  cancelled ............ {} without a live invoice, {} credited, {} sent to review",
            a.cancelled, a.credited, a.to_review
        )?;
        writeln!(f, "  after invoicing ...... {}", self.after_invoicing)?;
        writeln!(
            f,
            "  paid edits ........... {} credited for the difference",
            a.edit_credited
        )?;
        writeln!(f, "  payments written back  {}", self.payments_back)?;
        writeln!(f, "  items synced w/ stock  {}", self.catalogue)?;
        for m in self.catalogue.differ.iter().take(10) {
            writeln!(f, "      {m}")?;
        }
        writeln!(f, "  lost ................. {}", a.missing.len())?;
        for m in a.missing.iter().take(10) {
            writeln!(f, "      {m}")?;
        }
        writeln!(f, "  dead-lettered ........ {}", a.dead_lettered.len())?;
        for (order, reason) in a.dead_lettered.iter().take(12) {
            writeln!(f, "      order {order}: {reason}")?;
        }
        if !a.leaked_invalid.is_empty() {
            writeln!(
                f,
                "  invalid orders that reached FreshBooks: {:?}",
                a.leaked_invalid
            )?;
        }
        match &self.books {
            Some(b) => {
                writeln!(
                    f,
                    "  audit ................ {} orders checked, {} differences ({} FreshBooks calls)",
                    b.orders_checked,
                    b.differences.len(),
                    b.freshbooks_calls
                )?;
                for d in b.differences.iter().take(10) {
                    writeln!(
                        f,
                        "      {} order {}: expected {}, FreshBooks has {}",
                        d.class, d.order_number, d.expected, d.actual
                    )?;
                }
            }
            None => writeln!(
                f,
                "  audit ................ not run (the orders did not settle)"
            )?,
        }
        writeln!(f, "  retries .............. {}", self.retries)?;
        writeln!(f, "  breaker openings ..... {}", self.breaker_openings)?;
        writeln!(
            f,
            "  webhooks skipped ..... {} (events enqueued by polling: {})",
            self.webhooks_skipped, self.reconciled
        )?;
        writeln!(f, "  faults injected ...... {}", self.faults)?;
        writeln!(
            f,
            "  time taken ........... {:.1}s{}",
            self.elapsed.as_secs_f64(),
            if self.settled {
                ""
            } else {
                " (timed out before settling)"
            }
        )?;
        writeln!(f, "  store ................ {}", self.store_path.display())?;
        write!(
            f,
            "  result ............... {}",
            if self.is_clean() {
                "OK: nothing lost, nothing duplicated"
            } else {
                "FAILED"
            }
        )
    }
}

/// Runs the demo and reports.
///
/// # Errors
/// The simulators or the host could not start (a port, the store, a plugin file).
pub async fn run(args: DemoArgs) -> anyhow::Result<DemoReport> {
    let data_dir = std::env::temp_dir().join(format!("ferry-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).with_context(|| format!("create {}", data_dir.display()))?;
    let plugins_dir = std::fs::canonicalize(&args.plugins_dir).with_context(|| {
        format!(
            "plugins directory {} (run scripts/build-plugins.sh)",
            args.plugins_dir.display()
        )
    })?;

    let sandbox = Sandbox::start(&SandboxOptions {
        ports: [args.kentico_port, args.freshbooks_port, args.exchange_port],
        enrichment_port: args.enrichment_port,
        seed: args.seed,
        customers: 40,
        ..SandboxOptions::default()
    })
    .await?;
    let tenant = TenantId::parse("demo").context("tenant id")?;
    let tenant_config =
        sandbox.tenant_config(tenant.clone(), Sandbox::example_plugins(&plugins_dir));
    let mut config = sandbox.host_config(&data_dir, tenant_config);
    config.worker = demo_workers();
    // The host's port is part of the FreshBooks callback URL, so it is chosen before the host starts.
    let ferry_port = match args.ferry_port {
        0 => std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .context("pick a port for the demo host")?,
        port => port,
    };
    config.server.listen.set_port(ferry_port);
    for t in &mut config.tenants {
        // The catalogue too: every SKU an item with its stock, kept as the orders take it.
        t.catalogue.enabled = true;
        t.catalogue.tax_country = Some("US".to_owned());
        t.payments.enabled = true;
        t.payments.callback_url = Some(format!(
            "http://127.0.0.1:{ferry_port}/hooks/freshbooks/{}",
            t.id
        ));
    }
    info!(
        kentico = %sandbox.kentico.base_url(),
        freshbooks = %sandbox.freshbooks.base_url(),
        exchange = %sandbox.exchange.base_url(),
        enrichment = %sandbox.enrichment.base_url(),
        "Demo simulators are up."
    );
    let store_path = config.store.path.clone();
    let app = App::build(config.clone()).await?;
    let auditor = app.auditor();
    // A new tenant's catalogue first: every SKU becomes its item (worked off with the orders).
    let stock_before = crate::sandbox::catalogue::stock(&sandbox);
    sandbox.kentico.send_stock_webhooks(true);
    app.backfill_catalogue(&tenant)
        .await
        .context("backfill the demo tenant's catalogue")?;
    let host = app.spawn();
    let host_url = host.url();
    sandbox.send_webhooks_to(&host_url, &tenant);
    info!(%host_url, "Demo host is up.");

    // Faults for the whole run: FreshBooks fails 10% of calls, loses 3% of replies after committing, and opens
    // with a burst of 429s; Kentico fails 5%; 3% of webhooks are never sent (polling must catch them).
    let fb_faults = sandbox.freshbooks.faults();
    fb_faults.reseed(args.seed);
    fb_faults.set_error_rate(0.10, 503);
    fb_faults.set_drop_reply_rate(0.03);
    fb_faults.throttle_next(15, Some(Duration::from_secs(1)));
    sandbox.kentico.faults().set_error_rate(0.05, 500);
    sandbox.kentico.skip_webhooks(0.03);

    let started = Instant::now();
    // The books audit at the end checks every order changed in Kentico from here on.
    let audit_since = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let mix = OrderMix {
        invalid: 0.06,
        foreign_currency: 0.3,
        paid: 0.6,
    };
    // What real shops sell with: discounts of every kind, coupon codes, gift cards, options and bundles.
    let kinds = OrderKinds {
        discounted: 0.2,
        volume: 0.1,
        coupon: 0.2,
        order_discount: 0.2,
        gift_card: 0.15,
        options: 0.2,
        bundle: 0.1,
        free_shipping: 0.15,
        multibuy: 0.15,
        edited: 0.05,
        cancelled: 0.05,
    };
    // On a terminal: one bar for the orders, first as they are placed, then as they are accounted for.
    let bar = ProgressBar::new(args.orders as u64).with_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} orders, {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("placing");
    let mut placed = Vec::with_capacity(args.orders);
    for n in 0..args.orders {
        bar.set_position(n as u64);
        if n == args.orders / 2 && args.outage_secs > 0 {
            info!(secs = args.outage_secs, "FreshBooks outage begins.");
            fb_faults.outage_for(Duration::from_secs(args.outage_secs));
        }
        placed.push(sandbox.place_kinds(n as u64, &mix, &kinds).await);
        if n % 20 == 19 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    let store = Store::open(&config.store)
        .await
        .context("open the demo store")?;
    bar.set_position(0);
    bar.set_message("settling");
    let report_progress = |done: usize| bar.set_position(done as u64);
    let mut settled = sandbox
        .wait_settled_reporting(&store, &tenant, &placed, SETTLE_TIMEOUT, report_progress)
        .await?;
    // Once invoiced, the shop changes its mind: paid orders cancelled and edited down, an unpaid one cancelled.
    // FreshBooks must end with credit notes for exactly those, nothing more.
    let after_invoicing = change_after_invoicing(&sandbox, &mut placed).await;
    if settled {
        bar.set_message("changes");
        settled = sandbox
            .wait_settled_reporting(&store, &tenant, &placed, SETTLE_TIMEOUT, report_progress)
            .await?;
    }
    // Counted before the other direction, which adds payments of the shop's own.
    let audit = sandbox.audit(&store, &tenant, &placed).await?;
    // The other direction: bank payments recorded in FreshBooks for unpaid orders reach Kentico.
    let payments_back = if settled {
        bar.set_message("payments");
        crate::sandbox::writeback::pay_in_freshbooks(
            &sandbox,
            &placed,
            &config.tenants[0].payments.paid_status,
            Duration::from_secs(60),
        )
        .await
    } else {
        crate::sandbox::writeback::WritebackReport {
            skipped: Some("orders did not settle".into()),
            ..Default::default()
        }
    };
    // Every SKU an item, with Kentico's stock after the orders took theirs (the faults still on).
    let catalogue = if settled {
        bar.set_message("catalogue");
        crate::sandbox::catalogue::settle(&sandbox, &stock_before, Duration::from_secs(60)).await
    } else {
        crate::sandbox::catalogue::CatalogueReport::default()
    };
    // Last, the books audit an operator would run: FreshBooks read back through its API (the storm is over, so
    // its faults are cleared) and compared, order by order, with what Kentico says now.
    let books = if settled {
        bar.set_message("audit");
        fb_faults.set_error_rate(0.0, 503);
        fb_faults.set_drop_reply_rate(0.0);
        sandbox.kentico.faults().set_error_rate(0.0, 500);
        Some(
            auditor
                .audit(&tenant, audit_since)
                .await
                .context("audit the demo tenant's books")?,
        )
    } else {
        None
    };
    bar.finish_and_clear();
    let mut report = DemoReport {
        books,
        catalogue,
        payments_back,
        elapsed: started.elapsed(),
        audit,
        settled,
        store_path,
        webhooks_skipped: sandbox.kentico.webhook_stats().skipped,
        after_invoicing,
        ..DemoReport::default()
    };
    let c = fb_faults.counters();
    report.faults = format!(
        "{} 5xx, {} lost replies, {} throttled (429), {} during the outage",
        c.errors + c.failed_next,
        c.dropped_replies,
        c.throttled,
        c.outages
    );
    if let Ok(text) = reqwest::get(format!("{host_url}/metrics")).await
        && let Ok(text) = text.text().await
    {
        report.retries = metric_sum(
            &text,
            crate::telemetry::metrics::RUNS_TOTAL,
            Some("outcome=\"retried\""),
        );
        report.breaker_openings =
            metric_sum(&text, ferry_outbound::metrics::BREAKER_OPENED_TOTAL, None);
        report.reconciled = metric_sum(&text, crate::telemetry::metrics::RECONCILED_TOTAL, None);
    }
    let _ = host.stop().await;
    sandbox.shutdown();
    Ok(report)
}

/// Changes invoiced orders in Kentico as a shop does after the fact: two paid orders cancelled, two edited down by
/// one unit, one unpaid order cancelled (each marked on its [`Placed`] so the audit expects it). Returns what it did.
async fn change_after_invoicing(sandbox: &Sandbox, placed: &mut [Placed]) -> String {
    let (mut paid_cancelled, mut paid_edited, mut unpaid_cancelled) = (0, 0, 0);
    for p in placed.iter_mut() {
        if p.order.defect.is_some() || p.edited || p.cancelled {
            continue;
        }
        let Some(order) = sandbox.kentico.order(p.order.id) else {
            continue;
        };
        if p.paid && paid_cancelled < 2 {
            if sandbox.kentico.cancel_order(order.id).await {
                p.cancelled = true;
                paid_cancelled += 1;
            }
        } else if p.paid && paid_edited < 2 {
            let Some(lines) = order.one_unit_fewer() else {
                continue;
            };
            let edit = OrderEdit {
                lines: Some(lines),
                ..OrderEdit::default()
            };
            if sandbox.kentico.edit_order(order.id, edit).await.is_ok() {
                p.edited = true;
                paid_edited += 1;
            }
        } else if !p.paid && unpaid_cancelled < 1 && sandbox.kentico.cancel_order(order.id).await {
            p.cancelled = true;
            unpaid_cancelled += 1;
        }
        if paid_cancelled + paid_edited + unpaid_cancelled == 5 {
            break;
        }
    }
    format!(
        "{paid_cancelled} paid orders cancelled, {paid_edited} edited down by a unit, {unpaid_cancelled} unpaid cancelled"
    )
}

/// Quick retries so the demo settles in seconds; enough attempts to outlast the outage.
fn demo_workers() -> WorkerConfig {
    WorkerConfig {
        concurrency: 16,
        max_attempts: 15,
        backoff_base_ms: 100,
        backoff_max_ms: 3_000,
        lease_secs: 30,
        reconcile_every_secs: 2,
        ..WorkerConfig::default()
    }
}

/// Sums a Prometheus counter's samples whose label set contains `label` (all samples when `None`).
fn metric_sum(text: &str, name: &str, label: Option<&str>) -> u64 {
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter(|l| {
            let rest = &l[name.len()..];
            rest.starts_with('{') || rest.starts_with(' ')
        })
        .filter(|l| label.is_none_or(|lab| l.contains(lab)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_sum_adds_matching_samples_only() {
        let text = "# TYPE ferry_worker_runs_total counter\n\
            ferry_worker_runs_total{outcome=\"retried\"} 3\n\
            ferry_worker_runs_total{outcome=\"completed\"} 10\n\
            ferry_worker_runs_total_other 99\n";
        assert_eq!(
            metric_sum(text, "ferry_worker_runs_total", Some("outcome=\"retried\"")),
            3
        );
        assert_eq!(metric_sum(text, "ferry_worker_runs_total", None), 13);
    }
}
