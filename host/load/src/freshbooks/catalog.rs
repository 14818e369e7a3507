//! Items (`items/items`) and taxes (`taxes/taxes`).

use super::{
    FreshBooksClient,
    client::{pages, take},
    clients::PER_PAGE,
    types::{FbItem, FbTax},
};
use crate::Result;
use ferry_model::{ItemDraft, LineTax, ProductDraft};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::json;

impl FreshBooksClient {
    /// Every page of a list endpoint, with optional search filters; deleted objects are dropped by the caller.
    pub(crate) async fn list_all<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        key: &str,
        filters: &[(String, String)],
        max_pages: i64,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let mut q = filters.to_vec();
            q.push(("per_page".to_owned(), PER_PAGE.to_owned()));
            q.push(("page".to_owned(), page.to_string()));
            let r = self.accounting(what, Method::GET, path, &q, None).await?;
            let batch: Vec<T> = take(what, &r, key)?;
            let empty = batch.is_empty();
            out.extend(batch);
            if empty || page >= pages(&r) || page >= max_pages {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// Active items whose SKU equals `sku` exactly (`search[sku]`).
    ///
    /// # Errors
    /// HTTP errors.
    pub async fn find_items_by_sku(&self, sku: &str) -> Result<Vec<FbItem>> {
        let f = [("search[sku]".to_owned(), sku.to_owned())];
        let items: Vec<FbItem> = self
            .list_all(
                "find freshbooks items by sku",
                "items/items",
                "items",
                &f,
                10,
            )
            .await?;
        Ok(items
            .into_iter()
            .filter(|i| i.vis_state != 1 && i.sku.as_deref() == Some(sku))
            .collect())
    }

    /// Active items named `name` (FreshBooks documents no name filter: all pages are scanned).
    ///
    /// # Errors
    /// HTTP errors.
    pub async fn find_items_by_name(&self, name: &str) -> Result<Vec<FbItem>> {
        let items: Vec<FbItem> = self
            .list_all("list freshbooks items", "items/items", "items", &[], 100)
            .await?;
        Ok(items
            .into_iter()
            .filter(|i| i.vis_state != 1 && i.name.eq_ignore_ascii_case(name))
            .collect())
    }

    /// `POST items/items`, linking `tax_id` as `tax1`.
    ///
    /// # Errors
    /// HTTP errors (check `outcome_unknown`); [`crate::Error::Refused`].
    pub async fn create_item(&self, draft: &ItemDraft, tax_id: Option<i64>) -> Result<FbItem> {
        let what = format!("create freshbooks item {}", draft.sku);
        let body = json!({"item": {
            "name": draft.name, "description": draft.description, "sku": draft.sku,
            "unit_cost": {"amount": draft.unit_cost.rounded(2).amount.to_string(), "code": draft.unit_cost.code.as_str()},
            "tax1": tax_id.unwrap_or(0),
        }});
        let r = self
            .accounting(&what, Method::POST, "items/items", &[], Some(&body))
            .await?;
        take(&what, &r, "item")
    }

    /// `GET items/items/<id>`.
    ///
    /// # Errors
    /// HTTP errors (404 when the item does not exist).
    pub async fn get_item(&self, id: i64) -> Result<FbItem> {
        let what = format!("read freshbooks item {id}");
        let r = self
            .accounting(&what, Method::GET, &format!("items/items/{id}"), &[], None)
            .await?;
        take(&what, &r, "item")
    }

    /// `POST items/items` for a catalogue SKU: the item with its stock (`inventory`, null when not tracked).
    ///
    /// # Errors
    /// HTTP errors (check `outcome_unknown`); [`crate::Error::Refused`].
    pub async fn create_product_item(
        &self,
        draft: &ProductDraft,
        tax_id: Option<i64>,
    ) -> Result<FbItem> {
        let what = format!("create freshbooks item {}", draft.item.sku);
        let body = json!({ "item": product_fields(draft, tax_id) });
        let r = self
            .accounting(&what, Method::POST, "items/items", &[], Some(&body))
            .await?;
        take(&what, &r, "item")
    }

    /// `PUT items/items/<id>` with the item's fields (name, description, SKU, unit cost, tax, inventory).
    ///
    /// # Errors
    /// HTTP errors; [`crate::Error::Refused`].
    pub async fn update_product_item(
        &self,
        id: i64,
        draft: &ProductDraft,
        tax_id: Option<i64>,
    ) -> Result<FbItem> {
        let what = format!("update freshbooks item {id} ({})", draft.item.sku);
        let body = json!({ "item": product_fields(draft, tax_id) });
        let r = self
            .accounting(
                &what,
                Method::PUT,
                &format!("items/items/{id}"),
                &[],
                Some(&body),
            )
            .await?;
        take(&what, &r, "item")
    }

    /// `PUT items/items/<id>` with only `vis_state` (a patch carrying it applies nothing else).
    ///
    /// # Errors
    /// HTTP errors; [`crate::Error::Refused`].
    pub async fn set_item_vis_state(&self, id: i64, vis_state: i64) -> Result<FbItem> {
        let what = format!("set freshbooks item {id} vis_state {vis_state}");
        let body = json!({ "item": { "vis_state": vis_state } });
        let r = self
            .accounting(
                &what,
                Method::PUT,
                &format!("items/items/{id}"),
                &[],
                Some(&body),
            )
            .await?;
        take(&what, &r, "item")
    }

    /// Every tax of the account.
    ///
    /// # Errors
    /// HTTP errors.
    pub async fn list_taxes(&self) -> Result<Vec<FbTax>> {
        self.list_all("list freshbooks taxes", "taxes/taxes", "taxes", &[], 20)
            .await
    }

    /// `POST taxes/taxes`.
    ///
    /// # Errors
    /// HTTP errors (check `outcome_unknown`); [`crate::Error::Refused`].
    pub async fn create_tax(&self, tax: &LineTax) -> Result<FbTax> {
        let what = format!("create freshbooks tax {}", tax.name);
        let body = json!({"tax": {"name": tax.name, "amount": tax.percent.normalize().to_string(), "compound": false}});
        let r = self
            .accounting(&what, Method::POST, "taxes/taxes", &[], Some(&body))
            .await?;
        take(&what, &r, "tax")
    }
}

/// The writable fields of a catalogue item. `inventory` is sent as null for an untracked SKU, which stops
/// FreshBooks tracking stock for it.
fn product_fields(draft: &ProductDraft, tax_id: Option<i64>) -> serde_json::Value {
    let item = &draft.item;
    json!({
        "name": item.name, "description": item.description, "sku": item.sku,
        "unit_cost": {"amount": item.unit_cost.rounded(2).amount.to_string(), "code": item.unit_cost.code.as_str()},
        "tax1": tax_id.unwrap_or(0),
        "inventory": draft.inventory.map(|n| n.to_string()),
    })
}
