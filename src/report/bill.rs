//! A bill as a terminal table.

use comfy_table::{Cell, CellAlignment};

use super::money::{quantity, usd};
use crate::pricing::Bill;

/// Renders the line items and the total as a table.
pub fn bill_table(bill: &Bill) -> String {
    let mut t = super::term::table(["service", "resource", "item", "quantity", "unit", "cost"]);
    for i in &bill.items {
        t.add_row(vec![
            Cell::new(i.service.label()),
            Cell::new(&i.resource),
            Cell::new(&i.item),
            Cell::new(quantity(i.quantity)).set_alignment(CellAlignment::Right),
            Cell::new(&i.unit),
            Cell::new(usd(i.usd)).set_alignment(CellAlignment::Right),
        ]);
    }
    t.add_row(vec![
        Cell::new("total"),
        Cell::new(""),
        Cell::new(""),
        Cell::new(""),
        Cell::new(&bill.currency),
        Cell::new(usd(bill.total_usd)).set_alignment(CellAlignment::Right),
    ]);
    super::term::keep_words(&mut t);
    t.to_string()
}
