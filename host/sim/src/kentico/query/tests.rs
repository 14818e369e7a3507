//! Parser and evaluator unit tests.

use super::super::class::Record;
use super::super::order::Order;
use super::*;
use time::macros::offset;

fn parse(s: &str) -> Result<Condition, QueryError> {
    parse_where(s, Order::CLASS, offset!(+1))
}

#[test]
fn the_polling_query_parses() {
    let c = parse("OrderLastModified > '2026-11-20T14:03:12.0100000'").unwrap();
    assert!(matches!(c, Condition::Compare(_, Op::Gt, Value::Date(_))));
    let c =
        parse("OrderCustomerID = 12 AND OrderStatusID IN (1, 2,3) OR [OrderIsPaid] = 1").unwrap();
    assert!(matches!(c, Condition::Or(..)));
    assert!(parse("OrderNote LIKE N'%ring%' AND OrderTrackingNumber IS NULL").is_ok());
    assert!(parse("NOT (OrderID BETWEEN 1 AND 5)").is_ok());
    assert!(parse("1 = 1").is_ok());
}

#[test]
fn unknown_columns_and_bad_literals_are_invalid() {
    assert!(matches!(parse("Nope = 1"), Err(QueryError::Invalid(_))));
    assert!(matches!(
        parse("OrderID = 'abc'"),
        Err(QueryError::Invalid(_))
    ));
    assert!(matches!(
        parse("OrderDate > 'soon'"),
        Err(QueryError::Invalid(_))
    ));
    assert!(matches!(parse("OrderID = "), Err(QueryError::Invalid(_))));
}

#[test]
fn injection_is_unsafe() {
    assert!(matches!(
        parse("1=1; DROP TABLE COM_Order"),
        Err(QueryError::Unsafe(_))
    ));
    assert!(matches!(
        parse("OrderID = 1 --"),
        Err(QueryError::Unsafe(_))
    ));
    assert!(matches!(
        parse("OrderID IN (SELECT 1)"),
        Err(QueryError::Unsafe(_))
    ));
}

#[test]
fn quotes_escape_by_doubling() {
    let c = parse("OrderNote = 'O''Brien'").unwrap();
    assert!(matches!(c, Condition::Compare(_, _, Value::Text(ref t)) if t == "O'Brien"));
}

#[test]
fn like_wildcards() {
    assert!(like("Please ring twice", "%RING%"));
    assert!(like("abc", "a_c"));
    assert!(!like("abc", "a_"));
}

#[test]
fn order_by_and_columns() {
    let o = parse_order_by("OrderLastModified, OrderID DESC", Order::CLASS).unwrap();
    assert_eq!(o.len(), 2);
    assert!(o[1].1);
    assert!(parse_order_by("OrderID; DROP", Order::CLASS).is_err());
    let c = parse_columns("OrderID,OrderGUID, OrderLastModified", Order::CLASS).unwrap();
    assert_eq!(c.len(), 3);
}
