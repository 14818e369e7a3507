//! `ferry audit <tenant> [--since DATE] [--repair]`: audits the tenant's books now through the admin API and prints
//! the counts per class and every difference; `--repair` then repairs what Ferry may repair. `ferry audit <tenant>
//! --list` prints the latest audits instead.

use super::admin_client::{AdminClient, ApiArgs};
use crate::config::Config;
use clap::Args;
use serde_json::Value;
use std::io::Write;

/// `ferry audit …`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Tenant id.
    pub tenant: String,
    /// Orders changed in Kentico from this RFC 3339 moment or date (`2026-11-01`, midnight UTC); default: the
    /// tenant's `audit.window_days` before now.
    #[arg(long)]
    pub since: Option<String>,
    /// Then repair the differences Ferry may repair (lost ledger entries, orders to run again), once.
    #[arg(long, conflicts_with = "list")]
    pub repair: bool,
    /// Print the latest audits instead of running one.
    #[arg(long)]
    pub list: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Where the admin API is.
    #[command(flatten)]
    pub api: ApiArgs,
}

/// Runs the command.
///
/// # Errors
/// The API refused (the message says why) or could not be reached. The exit status does not depend on what the audit
/// found: a report with differences is an answer, not a failure.
pub async fn run(config: &Config, args: AuditArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let client = AdminClient::new(config, &args.api)?;
    let base = format!("/tenants/{}/audits", args.tenant);
    if args.list {
        let list = client.send(client.get(&base)).await?;
        return if args.json {
            writeln!(out, "{}", serde_json::to_string_pretty(&list)?).map_err(Into::into)
        } else {
            write_list(out, &list)
        };
    }
    let body = match &args.since {
        Some(since) => serde_json::json!({ "since": since }),
        None => serde_json::json!({}),
    };
    let reading = super::progress::spinner("reading Kentico and FreshBooks");
    let report = client.send(client.post(&base).json(&body)).await;
    reading.finish_and_clear();
    let report = report?;
    let repaired = if args.repair {
        let id = report["id"].as_i64().unwrap_or_default();
        Some(
            client
                .send(client.post(&format!("{base}/{id}/repair")))
                .await?,
        )
    } else {
        None
    };
    if args.json {
        let mut both = serde_json::json!({ "report": report });
        if let Some(r) = repaired {
            both["repaired"] = r;
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&both)?)?;
        return Ok(());
    }
    write_report(out, &report)?;
    if let Some(r) = repaired {
        writeln!(
            out,
            "repaired: {} ledger entries recorded, {} invoices overwritten, {} orders run again, {} left to a person",
            r["ledger_entries"],
            r["invoices_overwritten"],
            r["orders_resynced"],
            r["left_to_a_person"]
        )?;
    }
    Ok(())
}

/// The classes in the order reports list them.
const CLASSES: [&str; 9] = [
    "missing",
    "deleted_by_hand",
    "amount_changed",
    "client_changed",
    "duplicate",
    "payment_missing",
    "payment_extra",
    "orphan",
    "ledger_missing",
];

/// `audit 12: 40 orders checked (2 skipped), 3 differences, 5 FreshBooks calls`, the counts, then one line per
/// difference: class, order, FreshBooks object, expected, actual, repair.
fn write_report(out: &mut impl Write, report: &Value) -> anyhow::Result<()> {
    let diffs = report["differences"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    writeln!(
        out,
        "audit {}: {} orders checked ({} skipped), {} differences, {} FreshBooks calls, since {}",
        report["id"],
        report["orders_checked"],
        report["orders_skipped"],
        diffs.len(),
        report["freshbooks_calls"],
        report["since"].as_str().unwrap_or_default()
    )?;
    for class in CLASSES {
        let n = diffs.iter().filter(|d| d["class"] == class).count();
        writeln!(out, "{class}\t{n}")?;
    }
    if diffs.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "class\torder\tfreshbooks\texpected\tactual\trepair")?;
    for d in &diffs {
        let order = match d["order_number"].as_str() {
            Some(n) if !n.is_empty() => n.to_owned(),
            _ => d["order_guid"].as_str().unwrap_or_default().to_owned(),
        };
        writeln!(
            out,
            "{}\t{order}\t{}\t{}\t{}\t{}",
            d["class"].as_str().unwrap_or_default(),
            d["freshbooks"].as_str().unwrap_or("-"),
            d["expected"].as_str().unwrap_or_default(),
            d["actual"].as_str().unwrap_or_default(),
            d["repair"]["action"].as_str().unwrap_or("by a person")
        )?;
    }
    Ok(())
}

/// One line per audit: id, finished, orders, differences, calls.
fn write_list(out: &mut impl Write, list: &Value) -> anyhow::Result<()> {
    writeln!(
        out,
        "id\tfinished_at\tsince\torders_checked\tdifferences\tfreshbooks_calls"
    )?;
    for a in list.as_array().into_iter().flatten() {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}",
            a["id"],
            a["finished_at"].as_str().unwrap_or_default(),
            a["since"].as_str().unwrap_or_default(),
            a["orders_checked"],
            a["differences"],
            a["freshbooks_calls"]
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_prints_its_counts_and_each_difference_with_both_sides() {
        let report = serde_json::json!({
            "id": 3, "orders_checked": 10, "orders_skipped": 1, "freshbooks_calls": 4, "since": "2026-12-01T00:00:00Z",
            "differences": [{"class": "deleted_by_hand", "order_number": "17", "order_guid": "g",
                "freshbooks": "invoice 9", "expected": "an invoice of 12.50 USD", "actual": "invoice 9 deleted"}]
        });
        let mut out = Vec::new();
        write_report(&mut out, &report).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("audit 3: 10 orders checked (1 skipped), 1 differences"),
            "{text}"
        );
        assert!(text.contains("deleted_by_hand\t1\n"), "{text}");
        assert!(text.contains("missing\t0\n"), "{text}");
        assert!(
            text.contains("deleted_by_hand\t17\tinvoice 9\tan invoice of 12.50 USD\tinvoice 9 deleted\tby a person"),
            "{text}"
        );
    }
}
