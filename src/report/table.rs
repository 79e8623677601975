//! The comparison of a run as terminal tables.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use super::data::RunReport;
use super::money::{quantity, usd};
use super::summary::{comparison_rows, service_rows, Row};

fn layout_table(r: &RunReport, first: &str, rows: &[Row]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    let mut header = vec![Cell::new(first)];
    header.extend(r.layouts.iter().map(|l| Cell::new(&l.name)));
    t.set_header(header);
    for row in rows {
        let mut cells = vec![Cell::new(&row.label)];
        cells.extend(
            row.cells
                .iter()
                .map(|c| Cell::new(c).set_alignment(CellAlignment::Right)),
        );
        t.add_row(cells);
    }
    t
}

/// Layouts side by side: cost, saving, latency, throttles and peaks, then the cost
/// of the period by service.
pub fn comparison_table(r: &RunReport) -> String {
    let metrics = layout_table(r, "layout", &comparison_rows(r));
    let services = layout_table(r, "cost of the period by service", &service_rows(r));
    format!("{metrics}\n{services}")
}

/// The whole text output of `archsim run`: what ran, the comparison, what the
/// numbers say, the notes (throttling onsets) and the defects found.
pub fn run_text(r: &RunReport) -> String {
    let mut out = format!(
        "scenario {} (seed {}, kernels: {})\n\n{}\n",
        r.scenario,
        r.seed,
        r.kernels,
        comparison_table(r)
    );
    for s in super::summary::summary_sentences(r) {
        out += &format!("{s}\n");
    }
    for n in &r.notes {
        out += &format!("- {n}\n");
    }
    if r.layouts.iter().any(|l| !l.defects.is_empty()) {
        out += "\nDefects found by the real detectors (same in every layout, as they must be):\n";
        for l in &r.layouts {
            let mut kinds: std::collections::BTreeMap<&str, usize> =
                std::collections::BTreeMap::new();
            for d in &l.defects {
                *kinds.entry(d.defect.kind.name()).or_default() += 1;
            }
            let list: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
            let streams: std::collections::BTreeSet<u32> =
                l.defects.iter().map(|d| d.stream).collect();
            out += &format!(
                "  {}: {} in {} streams ({})\n",
                l.name,
                l.defects.len(),
                streams.len(),
                list.join(", ")
            );
        }
    }
    out
}

/// Every line item of every layout.
pub fn line_items_table(r: &RunReport) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "layout", "service", "resource", "item", "quantity", "unit", "cost",
    ]);
    for l in &r.layouts {
        for i in &l.bill.items {
            t.add_row(vec![
                Cell::new(&l.name),
                Cell::new(i.service.label()),
                Cell::new(&i.resource),
                Cell::new(&i.item),
                Cell::new(quantity(i.quantity)).set_alignment(CellAlignment::Right),
                Cell::new(&i.unit),
                Cell::new(usd(i.usd)).set_alignment(CellAlignment::Right),
            ]);
        }
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_has_every_layout_and_metric() {
        let r = RunReport::example();
        let t = comparison_table(&r);
        for s in [
            "distributed",
            "monolith",
            "cloned-monolith",
            "cost per month",
            "$23,695.80",
            "$992.80",
            "95.8%",
            "latency p99",
            "2,400 ms",
            "peak Lambda concurrency",
            "step_functions",
            "$270.00",
        ] {
            assert!(t.contains(s), "`{s}` missing:\n{t}");
        }
    }

    #[test]
    fn line_items_list_each_item() {
        let r = RunReport::example();
        let t = line_items_table(&r);
        assert!(t.contains("tier-2 requests"), "{t}");
        assert!(t.contains("$2.88"), "{t}");
        assert_eq!(t.matches("monolith ").count(), 3, "{t}");
    }
}
