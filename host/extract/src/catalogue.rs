//! The catalogue's entry points: re-read a SKU (product, variant or option) as it is now, or list the SKUs changed
//! since a watermark (for reconciliation and the catalogue backfill).

use crate::{
    Error, Result,
    fetch::{Changed, changed_since},
    kentico::{KenticoClient, ListQuery, Row},
    map,
};
use ferry_model::{CurrencyCode, Product};

/// Reads SKU `sku_id` past the cache, with its parent product (a variant), its tax class (with the rate of
/// `tax_country`, an ISO 3166 two-letter code, when given) and the site's main currency, and maps it to a
/// [`Product`].
///
/// # Errors
/// [`Error::NotFound`] when the SKU is gone (deleted in Kentico); classified HTTP errors (retry);
/// [`Error::Malformed`].
#[tracing::instrument(skip_all, fields(sku_id, stage = "extract"))]
pub async fn fetch_product(
    client: &KenticoClient,
    sku_id: i64,
    tax_country: Option<&str>,
) -> Result<Product> {
    let what = format!("fetch sku {sku_id} from kentico");
    let row = client.refresh_object("ecommerce.sku", sku_id).await?;
    let parent = match row.int("SKUParentSKUID").filter(|id| *id > 0) {
        Some(id) => Some(client.get_object("ecommerce.sku", id).await?),
        None => None,
    };
    let tax_class = match row.int("SKUTaxClassID").filter(|id| *id > 0) {
        Some(id) => Some(tax_class(client, id, tax_country, &what).await?),
        None => None,
    };
    let currency = main_currency(client, &what).await?;
    map::product(&row, parent.as_ref(), tax_class, currency)
        .map_err(|reason| Error::malformed(&what, reason))
}

/// The site's main currency (`CurrencyIsMain`), in which `SKUPrice` is kept.
async fn main_currency(client: &KenticoClient, what: &str) -> Result<CurrencyCode> {
    let q = ListQuery {
        where_clause: Some("CurrencyIsMain = 1".to_owned()),
        ..ListQuery::default()
    };
    let page = client.list("ecommerce.currency", &q).await?;
    // Filtered again here: a server that ignores `where` must not give us another currency.
    let main = page
        .rows
        .iter()
        .find(|r| r.bool("CurrencyIsMain") == Some(true))
        .ok_or_else(|| Error::malformed(what, "the site has no main currency"))?;
    CurrencyCode::parse(&main.string("CurrencyCode"))
        .map_err(|e| Error::malformed(what, e.to_string()))
}

/// The tax class with its rate in `country` (none without one).
async fn tax_class(
    client: &KenticoClient,
    class_id: i64,
    country: Option<&str>,
    what: &str,
) -> Result<ferry_model::TaxClass> {
    let row = client.get_object("ecommerce.taxclass", class_id).await?;
    let mut rate = None;
    if let Some(code) = country {
        let q = ListQuery {
            where_clause: Some(format!(
                "CountryTwoLetterCode = '{}'",
                code.replace('\'', "")
            )),
            ..ListQuery::default()
        };
        let countries = client.list("cms.country", &q).await?;
        let country_id = countries
            .rows
            .iter()
            .find(|r| r.string("CountryTwoLetterCode").eq_ignore_ascii_case(code))
            .and_then(|r| r.int("CountryID"));
        if let Some(country_id) = country_id {
            let q = ListQuery {
                where_clause: Some(format!("CountryID = {country_id}")),
                ..ListQuery::default()
            };
            let rows: Vec<Row> = client
                .children(
                    "ecommerce.taxclass",
                    class_id,
                    "ecommerce.taxclasscountry",
                    &q,
                )
                .await?;
            rate = rows
                .iter()
                .find(|r| r.int("CountryID") == Some(country_id))
                .and_then(|r| r.decimal("TaxValue"));
        }
    }
    map::tax_class(&row, rate).map_err(|r| Error::malformed(what, r))
}

/// SKUs with `SKULastModified > watermark`, oldest first, all pages (deleted ones are not listed: their
/// `sku.deleted` webhook is the only news of them).
///
/// # Errors
/// Classified HTTP errors; [`Error::Malformed`].
pub async fn changed_skus_since(
    client: &KenticoClient,
    watermark: time::OffsetDateTime,
) -> Result<Vec<Changed>> {
    changed_since(client, "ecommerce.sku", "SKU", watermark).await
}
