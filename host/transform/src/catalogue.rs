//! A catalogue SKU → the FreshBooks item it becomes: the default item (as an order line of the SKU would make it,
//! so the catalogue sync and the order sync name the same SKU code), then the plugins' `map-item`, which sees the
//! SKU as a one-unit line at its catalogue price with its attributes.

use crate::mapping::line_sku;
use crate::{Chain, TransformCtx, TransformError};
use ferry_model::{Conversion, ItemDraft, LineTax, Money, OrderLine, Product, ProductDraft, cents};

/// The SKU as a one-unit order line: what `map-item` is given for an order's line of it.
pub fn product_line(product: &Product) -> OrderLine {
    OrderLine {
        id: 0,
        sku_id: product.id,
        sku_number: product.number.clone(),
        name: product.name.clone(),
        description: product.description.clone(),
        quantity: 1,
        unit_price: product.price,
        total_price: product.price,
        sku_price: Some(product.price),
        tax_class: product.tax_class.clone(),
        attributes: product.attributes.clone(),
        guid: product.guid,
        parent_guid: None,
        bundle_guid: None,
        text: String::new(),
        unit_discounts: Vec::new(),
        discounts: Vec::new(),
    }
}

/// The default item for a SKU: its SKU code as orders bill it, name, description, catalogue price (converted and
/// rounded to cents when `conversion` is given) and the tax of its class, with stock and whether it is active.
pub fn product_draft(product: &Product, conversion: Option<&Conversion>) -> ProductDraft {
    let line = product_line(product);
    let (amount, currency) = match conversion {
        Some(c) => (product.price * c.rate, c.to.clone()),
        None => (product.price, product.currency.clone()),
    };
    let tax = product
        .tax_class
        .as_ref()
        .and_then(|class| Some((class, class.rate_percent.filter(|r| !r.is_zero())?)))
        .map(|(class, rate)| LineTax {
            name: format!("{} {}%", class.display_name, rate.normalize()),
            percent: rate.normalize(),
        });
    ProductDraft {
        item: ItemDraft {
            name: product.name.clone(),
            description: product.description.clone(),
            sku: line_sku(&line),
            unit_cost: Money::new(cents(amount), currency),
            taxable: tax.is_some(),
            tax,
        },
        inventory: product.stock,
        active: product.enabled,
    }
}

/// The item for a SKU: [`product_draft`], then the tenant's plugins' `map-item` (a plugin cannot change the SKU
/// code: it is how orders and the catalogue find the same item).
///
/// # Errors
/// A plugin failed or rejected the record.
pub fn map_product(
    chain: &Chain,
    ctx: &TransformCtx,
    product: &Product,
    conversion: Option<&Conversion>,
) -> Result<ProductDraft, TransformError> {
    let mut draft = product_draft(product, conversion);
    let sku = draft.item.sku.clone();
    draft.item = chain.map_item(ctx, &product_line(product), draft.item)?;
    draft.item.sku = sku;
    Ok(draft)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_model::{CurrencyCode, Decimal, TaxClass};
    use std::str::FromStr;

    fn product() -> Product {
        Product {
            id: 7,
            guid: uuid::Uuid::nil(),
            number: String::new(),
            name: "Hario V60".into(),
            description: "Dripper".into(),
            price: Decimal::from_str("24.00").unwrap(),
            currency: CurrencyCode::parse("USD").unwrap(),
            tax_class: Some(TaxClass {
                id: 1,
                code: "Standard".into(),
                display_name: "Standard".into(),
                rate_percent: Some(Decimal::from_str("20.000").unwrap()),
                zero_if_tax_id: false,
            }),
            parent_id: None,
            option_category_id: None,
            enabled: false,
            stock: Some(3),
            attributes: Vec::new(),
            last_modified: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_sku_without_number_gets_the_code_orders_bill_it_under() {
        let d = product_draft(&product(), None);
        assert_eq!(d.item.sku, "KENTICO-SKU-7");
        assert_eq!(d.item.tax.unwrap().name, "Standard 20%");
        assert_eq!(d.inventory, Some(3));
        assert!(!d.active);
    }

    #[test]
    fn the_price_is_converted_once_and_rounded_half_away_from_zero() {
        let c = Conversion {
            to: CurrencyCode::parse("EUR").unwrap(),
            rate: Decimal::from_str("0.8125").unwrap(),
            date: time::macros::date!(2026 - 11 - 20),
        };
        // 24.00 × 0.8125 = 19.50 exactly; 19.501 would round to 19.50 too, 19.505 to 19.51.
        let d = product_draft(&product(), Some(&c));
        assert_eq!(d.item.unit_cost.amount, Decimal::from_str("19.50").unwrap());
        assert_eq!(d.item.unit_cost.code.as_str(), "EUR");
    }
}
