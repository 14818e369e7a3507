//! Stock an order gives back reaches FreshBooks: an order edited down in Kentico returns the units it no longer
//! holds (K13's order editor, discounts.md §7.2) and the SKU's item shows Kentico's stock again. A cancelled order
//! keeps its units out (§7.4: cancelling by status moves no stock), and the item follows what Kentico counts.

use super::{catalogue_app, dec, wait_item};
use ferry_sim::kentico::{LineSpec, OrderEdit, OrderSpec, SkuSpec};

const SKU: &str = "DG-STOCK-001";

/// Kentico's stock of SKU `id` now.
fn kentico_stock(app: &ferry_tests::TestApp, id: i64) -> i64 {
    app.sandbox
        .kentico
        .catalogue()
        .into_iter()
        .find(|s| s.id == id)
        .map_or(i64::MIN, |s| s.available_items)
}

/// An order of `quantity` units of SKU `id`, unpaid, in the main currency.
fn order_of(id: i64, quantity: i32) -> OrderSpec {
    OrderSpec {
        lines: vec![LineSpec {
            sku_id: id,
            quantity,
        }],
        ..OrderSpec::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_edited_down_gives_its_units_back_to_the_item_and_a_cancelled_one_does_not()
-> anyhow::Result<()> {
    let app = catalogue_app(65).await?;
    let kentico = &app.sandbox.kentico;
    let id = kentico
        .create_sku(SkuSpec {
            number: SKU.into(),
            name: "Stock test grinder".into(),
            description: String::new(),
            price: dec("49.00"),
            tax_class_id: Some(1),
            parent_id: None,
            track_inventory: None,
            available_items: 20,
        })
        .await?;
    let stock_is = |n: i64| {
        move |i: &ferry_sim::freshbooks::model::Item| {
            i.inventory.as_deref() == Some(n.to_string().as_str())
        }
    };
    wait_item(&app, SKU, "the new SKU's item", stock_is(20)).await?;

    let edited = kentico.place_order(order_of(id, 3)).await;
    let cancelled = kentico.place_order(order_of(id, 2)).await;
    assert_eq!(kentico_stock(&app, id), 15);
    wait_item(&app, SKU, "the stock the orders took", stock_is(15)).await?;

    // Edited down from three units to one: Kentico has two back, and so does the item.
    kentico
        .edit_order(
            edited.id,
            OrderEdit {
                lines: Some(vec![LineSpec {
                    sku_id: id,
                    quantity: 1,
                }]),
                ..OrderEdit::default()
            },
        )
        .await?;
    assert_eq!(kentico_stock(&app, id), 17, "the edit returned two units");
    wait_item(&app, SKU, "the units the edit returned", stock_is(17)).await?;

    // Cancelled: Kentico keeps the two units out. The next order's change shows the item at Kentico's count, so
    // the cancellation gave nothing back on the way.
    assert!(kentico.cancel_order(cancelled.id).await);
    assert_eq!(kentico_stock(&app, id), 17, "a cancellation moves no stock");
    kentico.place_order(order_of(id, 1)).await;
    assert_eq!(kentico_stock(&app, id), 16);
    let item = wait_item(&app, SKU, "the stock after the next order", stock_is(16)).await?;
    assert_eq!(item.name, "Stock test grinder");
    app.stop().await;
    Ok(())
}
