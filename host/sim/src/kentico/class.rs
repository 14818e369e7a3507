//! Object types ("classes") as the REST service sees them: object-type name, DB table, columns with their SQL
//! types, and the id/guid/code-name/site/parent columns the URL templates use (docs/kentico.md §1, §2.1, §3.3).

use super::value::{Kind, Value};

/// Describes one object type.
#[derive(Debug)]
pub(crate) struct Class {
    /// The REST path segment, e.g. `ecommerce.order`.
    pub(crate) object_type: &'static str,
    /// DB table name: the table key in collection JSON and the element name in XML.
    pub(crate) table: &'static str,
    /// Columns in DB order; the first is the integer primary key.
    pub(crate) columns: &'static [(&'static str, Kind)],
    /// GUID column, if the class has one.
    pub(crate) guid: Option<&'static str>,
    /// Code-name column, if objects can be addressed by code name.
    pub(crate) code_name: Option<&'static str>,
    /// Site column; `None` when objects are not site-bound.
    pub(crate) site: Option<&'static str>,
    /// `(parent object type, parent id column)` for `/children/` lookups.
    pub(crate) parent: Option<(&'static str, &'static str)>,
}

impl Class {
    /// Index of a column by name, case-insensitively; `[brackets]` are ignored.
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        let name = name.trim().trim_start_matches('[').trim_end_matches(']');
        self.columns
            .iter()
            .position(|(c, _)| c.eq_ignore_ascii_case(name))
    }

    /// The collection root: object type with `.` → `_`, pluralised (`ecommerce_orderitems`, `cms_countries`).
    // guess: English plural rules (Kentico's TypeHelper.GetPlural) for the -y/-s/-x/-ss endings.
    pub(crate) fn root(&self) -> String {
        let base = self.object_type.replace('.', "_");
        if let Some(stem) = base.strip_suffix('y')
            && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
        {
            return format!("{stem}ies");
        }
        if base.ends_with('s') || base.ends_with('x') || base.ends_with("ch") {
            return format!("{base}es");
        }
        format!("{base}s")
    }
}

/// A stored object of one class.
pub(crate) trait Record: Sync + 'static {
    /// Its class.
    const CLASS: &'static Class;
    /// The primary key.
    fn id(&self) -> i64;
    /// The value of `column` (a name from [`Record::CLASS`]).
    fn get(&self, column: &str) -> Value;
    /// False for a row deleted since it was written: the REST service no longer finds it.
    fn is_live(&self) -> bool {
        true
    }
}

/// A table of objects of one class, seen without its Rust type.
pub(crate) trait Table: Sync {
    /// Its class.
    fn class(&self) -> &'static Class;
    /// Number of rows.
    fn len(&self) -> usize;
    /// Primary key of row `i`.
    fn id_at(&self, i: usize) -> i64;
    /// Cell `(i, column index)`.
    fn value(&self, i: usize, col: usize) -> Value;
    /// Row index of a primary key.
    fn index_of(&self, id: i64) -> Option<usize>;
    /// Whether row `i` is still served (not deleted).
    fn is_live(&self, i: usize) -> bool;
}

impl<T: Record> Table for Vec<T> {
    fn class(&self) -> &'static Class {
        T::CLASS
    }

    fn len(&self) -> usize {
        <[T]>::len(self)
    }

    fn id_at(&self, i: usize) -> i64 {
        self[i].id()
    }

    fn value(&self, i: usize, col: usize) -> Value {
        self[i].get(T::CLASS.columns[col].0)
    }

    fn is_live(&self, i: usize) -> bool {
        self[i].is_live()
    }

    fn index_of(&self, id: i64) -> Option<usize> {
        // Most tables are dense (id = position + 1); reference tables with imported ids fall back to a scan.
        let guess = usize::try_from(id - 1).ok();
        if let Some(i) = guess.filter(|i| *i < <[T]>::len(self))
            && self[i].id() == id
        {
            return Some(i);
        }
        self.iter().position(|r| r.id() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::order::Order;
    use super::super::reference::{Country, Currency, OrderStatus};
    use super::*;

    #[test]
    fn roots_are_plural_object_types() {
        assert_eq!(Order::CLASS.root(), "ecommerce_orders");
        assert_eq!(Country::CLASS.root(), "cms_countries");
        assert_eq!(Currency::CLASS.root(), "ecommerce_currencies");
        assert_eq!(OrderStatus::CLASS.root(), "ecommerce_orderstatuses");
    }

    #[test]
    fn columns_match_case_insensitively() {
        assert_eq!(Order::CLASS.column("orderid"), Some(0));
        assert_eq!(
            Order::CLASS.column("[OrderGUID]"),
            Order::CLASS.column("OrderGuid")
        );
        assert_eq!(Order::CLASS.column("Nope"), None);
    }
}
