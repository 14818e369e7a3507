//! Stock in the Kentico simulator as K13 moves it (`shared/reference/kentico/discounts.md` §7), read back over REST
//! as Ferry's catalogue sync reads it: a new order takes its units; an edit in the admin's order editor returns the
//! units of lines it lowers or removes (and takes the units it adds); cancelling keeps the units out. Each move
//! bumps `SKULastModified`, so a poller finds it.

use ferry_sim::kentico::{
    KenticoHandle, KenticoSim, KenticoSimConfig, LineSpec, OrderEdit, OrderSpec, SkuSpec,
};
use rust_decimal::Decimal;

/// `SKUAvailableItems` and `SKULastModified` as the REST service serves them.
async fn stock(sim: &KenticoHandle, sku_id: i64) -> anyhow::Result<(i64, String)> {
    let body = crate::kentico_rest_json(sim, &format!("ecommerce.sku/{sku_id}")).await?;
    let row = &body["data"];
    let n = row["SKUAvailableItems"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("no stock in {body}"))?;
    Ok((n, row["SKULastModified"].to_string()))
}

/// Edits order `order_id` in the admin to hold `quantity` units of SKU `sku_id` and nothing else.
async fn edit_to(
    sim: &KenticoHandle,
    order_id: i64,
    sku_id: i64,
    quantity: i32,
) -> anyhow::Result<()> {
    let edit = OrderEdit {
        lines: Some(vec![LineSpec { sku_id, quantity }]),
        ..OrderEdit::default()
    };
    Ok(sim.edit_order(order_id, edit).await?)
}

#[tokio::test]
async fn an_edit_returns_the_units_it_removes_and_a_cancellation_keeps_them_out()
-> anyhow::Result<()> {
    let sim = KenticoSim::start(KenticoSimConfig::default()).await?;
    let grinder = sim
        .create_sku(SkuSpec {
            number: "STOCK-GRINDER".into(),
            name: "Stock test grinder".into(),
            description: String::new(),
            price: Decimal::new(4900, 2),
            tax_class_id: Some(1),
            parent_id: None,
            track_inventory: None,
            available_items: 20,
        })
        .await?;
    let kettle = sim
        .create_sku(SkuSpec {
            number: "STOCK-KETTLE".into(),
            name: "Stock test kettle".into(),
            description: String::new(),
            price: Decimal::new(3500, 2),
            tax_class_id: Some(1),
            parent_id: None,
            track_inventory: Some("Disabled".into()),
            available_items: 5,
        })
        .await?;
    let order = sim
        .place_order(OrderSpec {
            lines: vec![
                LineSpec {
                    sku_id: grinder,
                    quantity: 3,
                },
                LineSpec {
                    sku_id: kettle,
                    quantity: 2,
                },
            ],
            ..OrderSpec::default()
        })
        .await;
    assert_eq!(stock(&sim, grinder).await?.0, 17, "checkout took 3");
    assert_eq!(
        stock(&sim, kettle).await?.0,
        5,
        "an untracked SKU keeps its count"
    );

    // Edited down to one grinder and no kettle: two grinders come back, the kettle still does not move.
    let (_, stamp) = stock(&sim, grinder).await?;
    edit_to(&sim, order.id, grinder, 1).await?;
    let (n, edited_stamp) = stock(&sim, grinder).await?;
    assert_eq!(n, 19, "the edit returned 2");
    assert_ne!(edited_stamp, stamp, "SKULastModified moved with the stock");
    assert_eq!(stock(&sim, kettle).await?.0, 5);

    // Raised again to four: three more leave stock.
    edit_to(&sim, order.id, grinder, 4).await?;
    assert_eq!(stock(&sim, grinder).await?.0, 16);

    // Cancelled by status: K13 keeps the inventory deduction (discounts.md §7.4).
    assert!(sim.cancel_order(order.id).await);
    assert_eq!(stock(&sim, grinder).await?.0, 16);
    let catalogue = sim.catalogue();
    let row = catalogue
        .iter()
        .find(|s| s.id == grinder)
        .expect("the grinder");
    assert_eq!(row.available_items, 16);
    sim.shutdown();
    Ok(())
}
