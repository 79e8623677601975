//! The comparison of a run as terminal tables, at most [`term::WIDTH`] columns wide.

use comfy_table::{Cell, CellAlignment, Color};

use super::capacity::{capacity, Capacity};
use super::data::RunReport;
use super::money::{quantity, usd};
use super::summary::{comparison_grid, cost_grid, latency_grid, load_grid, verdict};
use super::term::{self, grid_table, paragraph, Style};

/// Colour of a capacity verdict: green keeps up, yellow throttled, red overloaded.
fn capacity_color(c: Capacity) -> Color {
    match c {
        Capacity::KeepsUp => Color::Green,
        Capacity::Throttled => Color::Yellow,
        Capacity::Overloaded { .. } => Color::Red,
    }
}

/// The main comparison: one row per layout with cost a month, per stream-hour, the
/// saving, p95 latency and the capacity verdict.
pub fn comparison_table(r: &RunReport, style: Style) -> String {
    let g = comparison_grid(r);
    let cap = g.header.len() - 1;
    grid_table(&g, style, |row, col| {
        (col == cap).then(|| capacity_color(capacity(&r.layouts[row])))
    })
    .to_string()
}

/// The tables `--details` adds: cost a month by service, latency, load and capacity.
pub fn details_tables(r: &RunReport, style: Style) -> String {
    let none = |_, _| None;
    let latency = match r.items_word() {
        "requests" => "arrival of a request to the end of its last stage",
        _ => "capture of a frame to the end of its analysis",
    };
    format!(
        "\nCost a month by service\n{}\n\nLatency ({latency})\n{}\n\nLoad and capacity\n{}\n",
        grid_table(&cost_grid(r), style, none),
        grid_table(&latency_grid(r), style, none),
        grid_table(&load_grid(r), style, none)
    )
}

/// The whole text output of `archsim run`: what ran, the verdict, the comparison,
/// what the numbers say, the notes (throttling onsets), the defects found, and with
/// `details` the cost, latency and load tables.
pub fn run_text(r: &RunReport, style: Style, details: bool) -> String {
    let mut out = paragraph(
        &format!(
            "scenario {} (seed {}, kernels: {})",
            r.scenario, r.seed, r.kernels
        ),
        2,
    );
    out += "\n";
    out += &style.bold(paragraph(&verdict(r), 0).trim_end());
    out += "\n\n";
    out += &comparison_table(r, style);
    out += "\n";
    if details {
        out += &details_tables(r, style);
    }
    out += "\n";
    for s in super::summary::summary_sentences(r) {
        out += &paragraph(&s, 0);
    }
    for n in &r.notes {
        out += &paragraph(&format!("- {n}"), 2);
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
            out += &paragraph(
                &format!(
                    "  {}: {} in {} streams ({})",
                    l.name,
                    l.defects.len(),
                    streams.len(),
                    list.join(", ")
                ),
                4,
            );
        }
    }
    if !details {
        out += "\nMore with --details: cost by service, latency percentiles, throttles, retries and peaks.\n";
    }
    out
}

/// Every line item of every layout.
pub fn line_items_table(r: &RunReport) -> String {
    let mut t = term::table([
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
    term::keep_words(&mut t);
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    fn widest(text: &str) -> usize {
        text.lines().map(|l| l.width()).max().unwrap_or(0)
    }

    #[test]
    fn run_text_leads_with_the_verdict_and_fits() {
        let r = RunReport::example();
        let t = run_text(&r, Style::plain(), true);
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[2].starts_with("monolith is cheapest at $992.80 a month"),
            "{t}"
        );
        for s in [
            "$23,695.80",
            "$992.80",
            "95.8%",
            "keeps up",
            "Cost a month by service",
            "step_functions",
            "2,400 ms",
            "3,600,000",
        ] {
            assert!(t.contains(s), "`{s}` missing:\n{t}");
        }
        assert!(widest(&t) <= term::WIDTH as usize, "{t}");
        assert!(!t.contains('\x1b'));
        let short = run_text(&r, Style::plain(), false);
        assert!(!short.contains("Cost a month by service"));
        assert!(short.contains("--details"));
    }

    #[test]
    fn colour_marks_the_verdict_and_capacity() {
        let r = RunReport::example();
        let t = run_text(&r, Style { color: true }, false);
        assert!(t.contains("\x1b[1mmonolith is cheapest"), "{t}");
        assert!(
            t.contains("\x1b[38;5;10m") || t.contains("\x1b[32m"),
            "{t:?}"
        );
    }

    #[test]
    fn line_items_list_each_item() {
        let r = RunReport::example();
        let t = line_items_table(&r);
        assert!(t.contains("tier-2"), "{t}");
        assert!(t.contains("$2.88"), "{t}");
        assert_eq!(t.matches("│ monolith ").count(), 1, "{t}");
        assert!(widest(&t) <= term::WIDTH as usize);
    }
}
