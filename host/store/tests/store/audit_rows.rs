//! Books audit reports (migration 0017) on both backends: a report saved whole reads back equal under its id,
//! newest first and per tenant, and its repair is marked once whoever asks.

use crate::suite::tenant;
use anyhow::{Result, ensure};
use ferry_model::{AuditClass, AuditReport, Difference, Repair};
use ferry_store::Store;
use time::macros::datetime;

/// A report of `t` with one repairable difference on order `order_id`.
fn report(t: &str, order_id: i64) -> AuditReport {
    AuditReport {
        id: 0,
        tenant: t.to_owned(),
        since: datetime!(2026-11-01 00:00 UTC),
        started_at: datetime!(2026-12-05 10:00:00.250 UTC),
        finished_at: datetime!(2026-12-05 10:00:06.500 UTC),
        orders_checked: 1000,
        orders_skipped: 2,
        freshbooks_calls: 18,
        differences: vec![Difference {
            class: AuditClass::Missing,
            order_number: order_id.to_string(),
            order_id,
            order_guid: uuid::Uuid::from_u128(order_id as u128).to_string(),
            freshbooks: None,
            expected: "invoice 1,234.50 USD".to_owned(),
            actual: "none".to_owned(),
            repair: Some(Repair::Resync),
        }],
    }
}

pub(crate) async fn audit_reports_read_back_whole_and_repair_once(s: &Store) -> Result<()> {
    let shop = tenant("shop");
    let first = s.save_audit(&report("shop", 27)).await?;
    let second = s.save_audit(&report("shop", 28)).await?;
    let theirs = s.save_audit(&report("other", 29)).await?;
    ensure!(first < second && second < theirs);

    let read = s.audit(&shop, first).await?;
    ensure!(
        read == Some(AuditReport {
            id: first,
            ..report("shop", 27)
        }),
        "{read:?}"
    );
    ensure!(
        s.audit(&shop, theirs).await?.is_none(),
        "another tenant's report"
    );
    let listed: Vec<i64> = s.audits(&shop, 10).await?.iter().map(|r| r.id).collect();
    ensure!(listed == [second, first], "newest first: {listed:?}");
    ensure!(s.audits(&shop, 1).await?.len() == 1);

    ensure!(
        s.mark_audit_repaired(&shop, first).await?,
        "the first repair runs"
    );
    ensure!(!s.mark_audit_repaired(&shop, first).await?, "and only once");
    ensure!(!s.mark_audit_repaired(&tenant("other"), first).await?);
    ensure!(s.mark_audit_repaired(&tenant("other"), theirs).await?);
    Ok(())
}

rows_on_both_backends!(audit_rows: audit_reports_read_back_whole_and_repair_once);
