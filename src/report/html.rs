//! `report.html`: one self-contained page. Charts are inline SVG; there is no
//! script, and no external font, style sheet or image. The page is also well-formed
//! XML (XHTML syntax) so tests can parse it.

use std::fmt::Write as _;

use super::capacity::{capacity, Capacity};
use super::charts;
use super::data::RunReport;
use super::money::{percent, quantity, usd};
use super::summary::{
    comparison_grid, cost_grid, headline, latency_grid, load_grid, summary_sentences, verdict, Grid,
};
use crate::error::Result;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; color: #222;
  max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.45; background: #fff; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; margin-top: 1.8em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-top: 1.2em; }
.meta { color: #555; margin-top: 0; }
.verdict { font-size: 1.35em; font-weight: bold; margin: 0.8em 0 0.6em; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; margin: 0 0 1em; }
.figures div { flex: 1 1 15em; background: #f4f7fb; border-left: 4px solid #1f77b4; padding: 0.6em 1em; }
.figures .big { display: block; font-size: 2.1em; font-weight: bold; line-height: 1.2; }
.figures .what { color: #444; }
.summary { color: #333; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f0f0f0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; }
.keeps-up { color: #1a7f37; } .throttled { color: #9a6700; } .overloaded { color: #c62828; font-weight: bold; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
footer { margin-top: 3em; color: #777; font-size: 0.85em; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; }
  figure, tr, .figures div { break-inside: avoid; }
  .figures div { border: 1px solid #999; }
  figure svg { border: none; }
}
@page { margin: 15mm; }
";

/// A [`Grid`] as a table; `class_of` (row, column) may class a cell.
fn grid_table(out: &mut String, g: &Grid, class_of: impl Fn(usize, usize) -> Option<&'static str>) {
    out.push_str("<table>\n<tr>");
    for h in &g.header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for (r, row) in g.rows.iter().enumerate() {
        out.push_str("<tr>");
        for (c, cell) in row.iter().enumerate() {
            let mut classes: Vec<&str> = Vec::new();
            if g.numeric.get(c).copied().unwrap_or(false) {
                classes.push("num");
            }
            classes.extend(class_of(r, c));
            if c == 0 {
                let _ = write!(out, "<th>{}</th>", escape(cell));
            } else if classes.is_empty() {
                let _ = write!(out, "<td>{}</td>", escape(cell));
            } else {
                let _ = write!(
                    out,
                    "<td class=\"{}\">{}</td>",
                    classes.join(" "),
                    escape(cell)
                );
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn figure(out: &mut String, chart: charts::Chart<'_>, caption: &str) -> Result<()> {
    let svg = chart.svg()?;
    let svg = match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => &svg,
    };
    let _ = write!(
        out,
        "<figure role=\"img\" aria-label=\"{}\">\n{svg}\n<figcaption>{}</figcaption>\n</figure>\n",
        escape(caption),
        escape(caption)
    );
    Ok(())
}

/// CSS class of a capacity verdict.
fn capacity_class(c: Capacity) -> &'static str {
    match c {
        Capacity::KeepsUp => "keeps-up",
        Capacity::Throttled => "throttled",
        Capacity::Overloaded { .. } => "overloaded",
    }
}

/// The verdict and the three big figures: the saving, the cheapest layout's monthly
/// cost, and where the distributed layout meets its wall.
fn lead(o: &mut String, r: &RunReport) {
    let _ = writeln!(o, "<p class=\"verdict\">{}</p>", escape(&verdict(r)));
    let Some(h) = headline(r) else {
        return;
    };
    let big = |o: &mut String, figure: &str, what: &str| {
        let _ = writeln!(
            o,
            "<div><span class=\"big\">{}</span><span class=\"what\">{}</span></div>",
            escape(figure),
            escape(what)
        );
    };
    o.push_str("<div class=\"figures\">\n");
    match h.saving_pct {
        Some(p) => big(
            o,
            &percent(p),
            &format!(
                "saving of {} against {} ({} a month)",
                h.cheapest,
                h.baseline,
                usd(h.baseline_monthly_usd)
            ),
        ),
        None => big(
            o,
            "—",
            &format!("{} is already the cheapest layout", h.baseline),
        ),
    }
    big(
        o,
        &usd(h.cheapest_monthly_usd),
        &format!("a month for {}, the cheapest layout", h.cheapest),
    );
    let walled = h
        .wall
        .as_ref()
        .and_then(|(name, _)| r.layouts.iter().find(|l| l.name == *name));
    match walled {
        Some(l) => match (l.throttling_starts_at_streams, l.onset_searched_up_to) {
            (Some(n), _) => big(
                o,
                &format!("{} streams", quantity(n as f64)),
                &format!(
                    "where {} starts to be throttled ({} quotas)",
                    l.name,
                    l.throttling_service.as_deref().unwrap_or("?")
                ),
            ),
            (None, up_to) => big(
                o,
                "no wall",
                &format!(
                    "{} is not throttled up to {} streams",
                    l.name,
                    quantity(up_to.unwrap_or(0) as f64)
                ),
            ),
        },
        None => big(o, "—", "no throttling search ran (--no-onset)"),
    }
    o.push_str("</div>\n");
}

/// The whole page.
pub fn render(r: &RunReport) -> Result<String> {
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    let _ = writeln!(o, "<title>archsim report: {}</title>", escape(&r.scenario));
    let _ = writeln!(o, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(o, "<h1>archsim report: {}</h1>", escape(&r.scenario));
    let names: Vec<&str> = r.layouts.iter().map(|l| l.name.as_str()).collect();
    let _ = writeln!(
        o,
        "<p class=\"meta\">Seed {} · kernels: {} · layouts: {}</p>",
        r.seed,
        escape(&r.kernels),
        escape(&names.join(", "))
    );
    lead(&mut o, r);

    o.push_str("<h2>Comparison</h2>\n");
    let comparison = comparison_grid(r);
    let cap = comparison.header.len() - 1;
    grid_table(&mut o, &comparison, |row, col| {
        (col == cap).then(|| capacity_class(capacity(&r.layouts[row])))
    });
    o.push_str("<p class=\"summary\">");
    o.push_str(&escape(&summary_sentences(r).join(" ")));
    o.push_str(
        " Monthly figures project the simulated period's usage to a 730-hour month, \
         then price it, so volume tiers and free tiers apply once, to the month; savings \
         are against the first layout's monthly cost.</p>\n",
    );

    o.push_str("<h2>Cost</h2>\n");
    figure(
        &mut o,
        charts::cost_by_layout(&r.layouts),
        "Monthly cost of each layout, stacked by service.",
    )?;
    grid_table(&mut o, &cost_grid(r), |_, _| None);

    o.push_str("<h2>Latency</h2>\n");
    figure(
        &mut o,
        charts::latency_cdf(&r.layouts),
        &format!(
            "Fraction of {} answered within a given latency (log scale).",
            r.items_word()
        ),
    )?;
    grid_table(&mut o, &latency_grid(r), |_, _| None);

    o.push_str("<h2>Capacity</h2>\n");
    grid_table(&mut o, &load_grid(r), |_, _| None);
    // A request source has no onset search (it varies the stream count).
    let onset = match r.items_word() {
        "frames" => " Where throttling starts comes from a search over stream counts.",
        _ => "",
    };
    let _ = writeln!(
        o,
        "<p>A layout <em>keeps up</em> when it serves its offered items ({}) and nothing is \
         throttled; <em>throttled</em> when it serves them but requests were throttled (or \
         Lambda concurrency reached its quota); <em>overloaded</em> when items were dropped \
         (not started within the overload policy's deadline, or not before the period ended) \
         or a backlog drained after the period: the cell gives the share served, and the \
         verdict line names the quota that binds. An overloaded layout's latency is over the \
         items it served.{onset}</p>",
        r.items_word()
    );

    o.push_str("<h2>Timelines</h2>\n");
    for l in &r.layouts {
        let _ = writeln!(o, "<h3>{}</h3>", escape(&l.name));
        figure(
            &mut o,
            charts::timeline(l),
            &format!(
                "{}: the series this layout has over time; dashed lines are the quotas that bind it.",
                l.name
            ),
        )?;
    }

    if let Some(s) = &r.sweep {
        o.push_str("<h2>Sweep</h2>\n");
        figure(
            &mut o,
            charts::sweep(s),
            &format!("Monthly cost against {} ({}).", s.x_label, s.parameter),
        )?;
        if s.crossovers.is_empty() {
            o.push_str("<p>The layouts' costs do not cross in the swept range.</p>\n");
        } else {
            o.push_str("<ul>\n");
            for c in &s.crossovers {
                let _ = writeln!(
                    o,
                    "<li>{} at {} = {} ({} a month)</li>",
                    escape(&c.label),
                    escape(&s.parameter),
                    escape(&charts::format_number(c.x)),
                    escape(&usd(c.usd_per_month))
                );
            }
            o.push_str("</ul>\n");
        }
    }

    if let Some(s) = &r.sensitivity {
        o.push_str("<h2>Sensitivity</h2>\n");
        figure(
            &mut o,
            charts::tornado(s),
            &format!(
                "Saving of {} with each assumption at the low and high end of its range.",
                s.comparison
            ),
        )?;
        o.push_str("<table>\n<tr><th>assumption</th><th>low</th><th>saving at low</th><th>high</th><th>saving at high</th></tr>\n");
        for b in &s.bars {
            let _ = writeln!(
                o,
                "<tr><th>{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&b.assumption),
                escape(&b.low_value),
                escape(&percent(b.low_saving_pct)),
                escape(&b.high_value),
                escape(&percent(b.high_saving_pct))
            );
        }
        let _ = writeln!(
            o,
            "</table>\n<p>Baseline saving: {}.</p>",
            escape(&percent(s.baseline_saving_pct))
        );
    }

    o.push_str("<h2>Line items</h2>\n");
    for l in &r.layouts {
        let _ = writeln!(
            o,
            "<h3>{} — {} for {} h</h3>",
            escape(&l.name),
            escape(&usd(l.period_usd())),
            escape(&quantity(l.period_hours))
        );
        o.push_str("<table>\n<tr><th>service</th><th>resource</th><th>item</th><th>quantity</th><th>unit</th><th>cost</th></tr>\n");
        for service in l.bill.services() {
            for i in l.bill.items.iter().filter(|i| i.service == service) {
                item_row(&mut o, i);
            }
            let _ = writeln!(
                o,
                "<tr class=\"total\"><td colspan=\"5\">{} subtotal</td><td class=\"num\">{}</td></tr>",
                escape(service.label()),
                escape(&usd(l.bill.service_total(service)))
            );
        }
        let _ = writeln!(
            o,
            "<tr class=\"total\"><td colspan=\"5\">total</td><td class=\"num\">{}</td></tr>\n</table>",
            escape(&usd(l.bill.total_usd))
        );
    }

    o.push_str("<h2>Assumptions</h2>\n");
    if r.assumptions.is_empty() {
        o.push_str("<p>No assumptions were recorded.</p>\n");
    } else {
        o.push_str(
            "<p>Each assumption once: scenario-wide ones first, then each layout setting with \
             the layouts it applies to.</p>\n<table>\n<tr><th>setting</th><th>value</th>\
             <th>applies to</th><th>range tried</th><th>source or assumption</th></tr>\n",
        );
        for a in &r.assumptions {
            let range = match (&a.low, &a.high) {
                (Some(lo), Some(hi)) => format!("{lo} – {hi}"),
                (Some(lo), None) => format!("from {lo}"),
                (None, Some(hi)) => format!("up to {hi}"),
                (None, None) => "—".into(),
            };
            let applies = if a.layouts.is_empty() {
                "scenario".to_string()
            } else if a.layouts.len() == r.layouts.len() && r.layouts.len() > 1 {
                "every layout".to_string()
            } else {
                a.layouts.join(", ")
            };
            let _ = writeln!(
                o,
                "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&a.name),
                escape(&a.value),
                escape(&applies),
                escape(&range),
                escape(&a.source)
            );
        }
        o.push_str("</table>\n");
    }

    if !r.notes.is_empty() {
        o.push_str("<h2>Notes</h2>\n<ul>\n");
        for n in &r.notes {
            let _ = writeln!(o, "<li>{}</li>", escape(n));
        }
        o.push_str("</ul>\n");
    }
    let _ = writeln!(
        o,
        "<footer>Generated by archsim {} from scenario {} with seed {}. The same data is in summary.json, line_items.csv and latency.csv beside this page.</footer>",
        env!("CARGO_PKG_VERSION"),
        escape(&r.scenario),
        r.seed
    );
    o.push_str("</body>\n</html>\n");
    Ok(o)
}

/// One line item as a table row.
fn item_row(o: &mut String, i: &crate::pricing::LineItem) {
    let _ = writeln!(
        o,
        "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
        escape(i.service.label()),
        escape(&i.resource),
        escape(&i.item),
        escape(&quantity(i.quantity)),
        escape(&i.unit),
        escape(&usd(i.usd))
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(html: &str) -> roxmltree::Document<'_> {
        let body = html
            .strip_prefix("<!DOCTYPE html>\n")
            .expect("starts with a doctype");
        roxmltree::Document::parse(body).unwrap_or_else(|e| panic!("not well-formed: {e}"))
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn page_is_self_contained_and_complete() {
        let mut r = RunReport::example();
        r.layouts[1].name = "mono<lith> & \"co\"".into();
        r.notes
            .push("see https://example.com/x <b>not bold</b>".into());
        let html = render(&r).unwrap();
        let doc = parse(&html);
        // Nothing external: no script, no src/href anywhere, no CSS url().
        for n in doc.descendants().filter(|n| n.is_element()) {
            let tag = n.tag_name().name();
            assert_ne!(tag, "script");
            assert_ne!(tag, "link");
            assert_ne!(tag, "img");
            for a in n.attributes() {
                let name = a.name();
                assert!(
                    name != "src" && name != "href" && !a.value().contains("url("),
                    "<{tag} {name}=\"{}\">",
                    a.value()
                );
            }
        }
        let style: String = doc
            .descendants()
            .filter(|n| n.has_tag_name("style"))
            .filter_map(|n| n.text())
            .collect();
        assert!(
            !style.contains("url(") && !style.contains("@import"),
            "{style}"
        );
        assert!(!html.contains("<script"));
        // Every layout name appears, escaped, as text.
        let text: String = doc
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect();
        for l in &r.layouts {
            assert!(text.contains(&l.name), "{} missing", l.name);
        }
        // The user's text never becomes markup.
        assert!(!doc.descendants().any(|n| n.has_tag_name("b")));
        // The answer leads: the verdict and the big figures come before any table.
        let verdict_at = html.find("class=\"verdict\"").unwrap();
        assert!(verdict_at < html.find("class=\"figures\"").unwrap());
        assert!(html.find("class=\"figures\"").unwrap() < html.find("<table").unwrap());
        // Nothing scrolls sideways; printing has its own rules.
        assert!(!style.contains("overflow-x"), "{style}");
        assert!(style.contains("@media print"));
        // Charts: cost, latency, three timelines, sweep, tornado.
        let svgs = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "svg")
            .count();
        assert_eq!(svgs, 7);
        for s in [
            "USD per month",
            "The cheapest layout is",
            "95.8%",
            "against distributed ($23,695.80 a month)",
            "850 streams",
            "where distributed starts to be throttled (step_functions quotas)",
            "distributed, express",
            "Prime Video tech blog, 2023",
            "assumption <& \"quoted\">",
            "step_functions subtotal",
            "keeps up",
            "Baseline saving: 90.0%.",
            "distributed = monolith at workload.streams = 7.8",
        ] {
            assert!(text.contains(s), "`{s}` missing");
        }
    }

    #[test]
    fn page_without_sweep_or_layouts() {
        let mut r = RunReport::example();
        r.sweep = None;
        r.sensitivity = None;
        r.layouts.clear();
        let html = render(&r).unwrap();
        let doc = parse(&html);
        assert!(!html.contains("<h2>Sweep</h2>"));
        assert!(!html.contains("<h2>Sensitivity</h2>"));
        assert_eq!(
            doc.descendants()
                .filter(|n| n.tag_name().name() == "svg")
                .count(),
            2
        );
        assert!(html.contains("No layout was simulated."));
    }
}
