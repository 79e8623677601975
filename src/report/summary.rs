//! What the HTML page and the terminal table both say: the comparison rows and the
//! plain-words summary, computed once from a [`RunReport`].

use super::capacity::{capacity, mark_latency};
use super::data::LayoutSummary;
use super::data::RunReport;
use super::money::{duration_ms, percent, quantity, usd, usd_rate};

/// A table of layouts: one row per layout, in the report's order, one column per
/// figure. The terminal and the HTML page both render it.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Which columns hold figures (right-aligned).
    pub numeric: Vec<bool>,
}

impl Grid {
    /// A grid with a `layout` column first, then `columns` (label, cell of layout i).
    fn of_layouts(
        r: &RunReport,
        columns: Vec<(String, Box<dyn Fn(usize) -> String + '_>)>,
    ) -> Grid {
        let mut header = vec!["layout".to_string()];
        header.extend(columns.iter().map(|(h, _)| h.clone()));
        let rows = (0..r.layouts.len())
            .map(|i| {
                let mut row = vec![r.layouts[i].name.clone()];
                row.extend(columns.iter().map(|(_, f)| f(i)));
                row
            })
            .collect();
        let mut numeric = vec![false];
        numeric.extend(std::iter::repeat_n(true, columns.len()));
        Grid {
            header,
            rows,
            numeric,
        }
    }

    /// The cell of `column` (by header) in layout row `i`.
    pub fn cell(&self, i: usize, column: &str) -> Option<&str> {
        let c = self.header.iter().position(|h| h == column)?;
        self.rows.get(i)?.get(c).map(String::as_str)
    }
}

fn counts(map: &std::collections::BTreeMap<String, u64>) -> String {
    let total: u64 = map.values().sum();
    if total == 0 {
        return "0".into();
    }
    let detail: Vec<String> = map
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| format!("{k} {}", quantity(*v as f64)))
        .collect();
    format!("{} ({})", quantity(total as f64), detail.join(", "))
}

/// Header of the saving column: against the first layout.
pub fn saving_header(r: &RunReport) -> String {
    format!(
        "saving vs {}",
        r.layouts.first().map_or("", |l| l.name.as_str())
    )
}

/// The main figures: cost per month and per stream-hour, saving against the first
/// layout, p95 latency and the capacity verdict.
pub fn comparison_grid(r: &RunReport) -> Grid {
    let l = &r.layouts;
    let est = |i: usize| l[i].replicated.as_ref();
    let mut g = Grid::of_layouts(
        r,
        vec![
            (
                "cost per month".into(),
                Box::new(|i| match est(i) {
                    Some(e) => plus_minus_share(&e.monthly_usd, usd),
                    None => usd(l[i].monthly_usd),
                }),
            ),
            (
                r.unit_label().into(),
                Box::new(|i| match est(i) {
                    Some(e) => plus_minus_share(
                        e.usd_per_1000_requests
                            .as_ref()
                            .unwrap_or(&e.usd_per_stream_hour),
                        usd_rate,
                    ),
                    None => usd_rate(l[i].usd_per_unit()),
                }),
            ),
            (
                saving_header(r),
                Box::new(|i| match est(i).and_then(|e| e.saving_pct) {
                    Some(s) => {
                        let d = if s.half_width() < 0.095 { 2 } else { 1 };
                        format!("{} ± {:.d$}", percent(s.mean), s.half_width())
                    }
                    None => r.saving_vs_first_pct(i).map_or("—".into(), percent),
                }),
            ),
            (
                "latency p95".into(),
                Box::new(|i| match est(i) {
                    Some(e) => mark_latency(&l[i], plus_minus(&e.latency_p95_ms, duration_ms)),
                    None => mark_latency(&l[i], duration_ms(l[i].latency_ms.p95)),
                }),
            ),
            ("capacity".into(), Box::new(|i| capacity(&l[i]).label())),
        ],
    );
    g.numeric[5] = false;
    g
}

/// `mean ± half-width`, the half-width as a share of the mean (as `--precision`
/// states it): `$46.49 ± 0.02%`.
pub fn plus_minus_share(e: &super::data::Estimate, unit: fn(f64) -> String) -> String {
    let share = if e.mean != 0.0 {
        e.half_width() / e.mean.abs() * 100.0
    } else {
        0.0
    };
    let digits = if share < 0.095 { 2 } else { 1 };
    format!("{} ± {share:.digits$}%", unit(e.mean))
}

/// `mean ± half-width`, each in `unit`'s words.
fn plus_minus(e: &super::data::Estimate, unit: fn(f64) -> String) -> String {
    format!("{} ± {}", unit(e.mean), unit(e.half_width()))
}

/// Services billed in any layout, in chart order.
fn services_billed(r: &RunReport) -> Vec<crate::pricing::Service> {
    crate::pricing::Service::ALL
        .into_iter()
        .filter(|s| r.layouts.iter().any(|l| l.bill.has(*s)))
        .collect()
}

/// Monthly cost by service (`—` where a layout does not use the service), then the
/// monthly total.
pub fn cost_grid(r: &RunReport) -> Grid {
    let l = &r.layouts;
    let mut columns: Vec<(String, Box<dyn Fn(usize) -> String + '_>)> = services_billed(r)
        .into_iter()
        .map(|s| {
            let f: Box<dyn Fn(usize) -> String> = Box::new(move |i| {
                l[i].monthly_by_service()
                    .iter()
                    .find(|(name, _)| *name == s)
                    .map_or("—".into(), |(_, v)| usd(*v))
            });
            (s.label().to_string(), f)
        })
        .collect();
    columns.push(("total a month".into(), Box::new(|i| usd(l[i].monthly_usd))));
    Grid::of_layouts(r, columns)
}

/// Latency percentiles, capture to end of analysis, and capture of a defect to its
/// notification (p95).
pub fn latency_grid(r: &RunReport) -> Grid {
    let l = &r.layouts;
    Grid::of_layouts(
        r,
        vec![
            (
                "p50".into(),
                Box::new(|i| match &l[i].replicated {
                    Some(e) => plus_minus(&e.latency_p50_ms, duration_ms),
                    None => duration_ms(l[i].latency_ms.p50),
                }),
            ),
            (
                "p95".into(),
                Box::new(|i| match &l[i].replicated {
                    Some(e) => plus_minus(&e.latency_p95_ms, duration_ms),
                    None => duration_ms(l[i].latency_ms.p95),
                }),
            ),
            (
                "p99".into(),
                Box::new(|i| match &l[i].replicated {
                    Some(e) => plus_minus(&e.latency_p99_ms, duration_ms),
                    None => duration_ms(l[i].latency_ms.p99),
                }),
            ),
            ("max".into(), Box::new(|i| duration_ms(l[i].latency_ms.max))),
            (
                "defect → notification p95".into(),
                // No defect found (sampled kernels): no notification to time.
                Box::new(|i| match l[i].notify_latency_ms {
                    p if p.max > 0.0 => duration_ms(p.p95),
                    _ => "—".into(),
                }),
            ),
        ],
    )
}

/// Load and capacity: frames analysed of those captured, throttles and retries, peaks
/// against their quota, where throttling starts.
pub fn load_grid(r: &RunReport) -> Grid {
    let l = &r.layouts;
    Grid::of_layouts(
        r,
        vec![
            (
                match r.items_word() {
                    "requests" => "requests served".into(),
                    _ => "frames analysed".into(),
                },
                Box::new(|i| {
                    let (a, c) = (l[i].frames_analyzed, l[i].frames_captured);
                    if a == c {
                        format!("all {}", quantity(c as f64))
                    } else {
                        format!("{} of {}", quantity(a as f64), quantity(c as f64))
                    }
                }),
            ),
            (
                "throttles".into(),
                Box::new(|i| match &l[i].replicated {
                    Some(e) => format!(
                        "{} ± {}",
                        quantity(e.throttles.mean.round()),
                        quantity(e.throttles.half_width().round())
                    ),
                    None => counts(&l[i].throttles),
                }),
            ),
            ("retries".into(), Box::new(|i| counts(&l[i].retries))),
            (
                "peak Lambda concurrency".into(),
                Box::new(|i| match l[i].lambda_concurrency_quota {
                    Some(q) => format!(
                        "{} of {}",
                        quantity(l[i].peak_lambda_concurrency as f64),
                        quantity(q as f64)
                    ),
                    None => quantity(l[i].peak_lambda_concurrency as f64),
                }),
            ),
            (
                "peak instances".into(),
                Box::new(|i| quantity(l[i].peak_instances as f64)),
            ),
            ("throttled from".into(), Box::new(|i| wall_words(&l[i]))),
        ],
    )
}

/// Where a layout's throttling starts, in words: `850 streams (step_functions)`,
/// `none up to 20,000 streams`, or `—` when no search ran.
pub fn wall_words(l: &LayoutSummary) -> String {
    match (l.throttling_starts_at_streams, l.onset_searched_up_to) {
        (Some(n), _) => format!(
            "{} streams ({})",
            quantity(n as f64),
            l.throttling_service.as_deref().unwrap_or("?")
        ),
        (None, Some(up_to)) => format!("none up to {} streams", quantity(up_to as f64)),
        (None, None) => "—".into(),
    }
}

/// The answer in figures: the cheapest layout and its saving against the first, and
/// where the distributed layout (or else the first layout searched) meets its wall.
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    pub cheapest: String,
    pub cheapest_monthly_usd: f64,
    /// The first layout, that the saving is measured against.
    pub baseline: String,
    pub baseline_monthly_usd: f64,
    /// Saving (%) of the cheapest against the first; `None` when the first is cheapest
    /// or costs nothing.
    pub saving_pct: Option<f64>,
    /// The layout whose quota wall is shown, and the wall in words.
    pub wall: Option<(String, String)>,
}

/// The headline of a report; `None` without layouts.
pub fn headline(r: &RunReport) -> Option<Headline> {
    let first = r.layouts.first()?;
    let (ci, cheapest) = r.layouts.iter().enumerate().min_by(|a, b| {
        a.1.carried_monthly_usd()
            .total_cmp(&b.1.carried_monthly_usd())
    })?;
    let searched = |l: &&LayoutSummary| l.onset_searched_up_to.is_some();
    let walled = r
        .layouts
        .iter()
        .filter(searched)
        .find(|l| l.kind == "distributed")
        .or_else(|| r.layouts.iter().find(searched));
    Some(Headline {
        cheapest: cheapest.name.clone(),
        cheapest_monthly_usd: cheapest.carried_monthly_usd(),
        baseline: first.name.clone(),
        baseline_monthly_usd: first.carried_monthly_usd(),
        saving_pct: r.saving_vs_first_pct(ci),
        wall: walled.map(|l| (l.name.clone(), wall_words(l))),
    })
}

/// The answer in one sentence: which layout is cheapest and by how much against the
/// first, and whether every layout carries its load (or where the wall is).
pub fn verdict(r: &RunReport) -> String {
    let Some(h) = headline(r) else {
        return "No layout was simulated.".into();
    };
    let mut s = match h.saving_pct {
        Some(p) if h.cheapest != h.baseline => format!(
            "{} is cheapest at {} a month, {} less than {}",
            h.cheapest,
            usd(h.cheapest_monthly_usd),
            percent(p),
            h.baseline
        ),
        _ => format!(
            "{} is cheapest at {} a month",
            h.cheapest,
            usd(h.cheapest_monthly_usd)
        ),
    };
    let overloaded: Vec<String> = r
        .layouts
        .iter()
        .filter(|l| !capacity(l).keeps_up())
        .map(|l| l.capacity.sentence(&l.name))
        .collect();
    if !overloaded.is_empty() {
        s += &format!("; {}", overloaded.join("; "));
        if let Some((name, words)) = h.wall.as_ref().filter(|w| w.1.ends_with(')')) {
            s += &format!(" ({name} is throttled from {words})");
        }
    } else if let Some((name, words)) = h.wall.as_ref().filter(|w| w.1.ends_with(')')) {
        s += &format!("; every layout keeps up, {name} is throttled from {words}");
    } else {
        s += "; every layout keeps up";
    }
    s + "."
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A few sentences in plain words: which layout is cheapest and by how much, what
/// drives the first layout's cost, latency, and where throttling appears.
pub fn summary_sentences(r: &RunReport) -> Vec<String> {
    let l = &r.layouts;
    if l.is_empty() {
        return vec!["No layout was simulated.".into()];
    }
    let mut out = Vec::new();
    let by_cost = |a: &&super::data::LayoutSummary, b: &&super::data::LayoutSummary| {
        a.carried_monthly_usd().total_cmp(&b.carried_monthly_usd())
    };
    let cheapest = l.iter().min_by(by_cost).expect("not empty");
    let dearest = l.iter().max_by(by_cost).expect("not empty");
    if l.len() == 1 {
        out.push(format!(
            "{} costs {} a month ({} {}).",
            cheapest.name,
            usd(cheapest.carried_monthly_usd()),
            usd_rate(cheapest.carried_usd_per_unit()),
            r.unit_label()
        ));
    } else {
        let mut s = format!(
            "The cheapest layout is {}, at {} a month ({} {})",
            cheapest.name,
            usd(cheapest.carried_monthly_usd()),
            usd_rate(cheapest.carried_usd_per_unit()),
            r.unit_label()
        );
        if dearest.carried_monthly_usd() > 0.0 && dearest.name != cheapest.name {
            s += &format!(
                ": {} less than {}, the most expensive at {} a month.",
                percent(
                    (1.0 - cheapest.carried_monthly_usd() / dearest.carried_monthly_usd()) * 100.0
                ),
                dearest.name,
                usd(dearest.carried_monthly_usd())
            );
        } else {
            s += ".";
        }
        out.push(s);
        let versus: Vec<String> = l
            .iter()
            .enumerate()
            .skip(1)
            .filter_map(|(i, other)| {
                let saving = r.saving_vs_first_pct(i)?;
                let (amount, word) = if saving >= 0.0 {
                    (saving, "less")
                } else {
                    (-saving, "more")
                };
                Some(format!("{} costs {} {word}", other.name, percent(amount)))
            })
            .collect();
        if !versus.is_empty() {
            out.push(format!("Against {}, {}.", l[0].name, and_list(&versus)));
        }
    }
    for x in l {
        if let Some(q) = &x.with_quotas_raised {
            out.push(format!(
                "Under its quotas {} bills {} a month for the share it serves; with quotas raised to carry the load it would cost {} ({} {}; {}), the figure the saving compares.",
                x.name,
                usd(x.monthly_usd),
                usd(q.monthly_usd),
                usd_rate(q.usd_per_unit()),
                r.unit_label(),
                q.capacity.sentence(&x.name)
            ));
        }
    }
    let first = &l[0];
    if first.bill.total_usd > 0.0 {
        if let Some((service, v)) = first
            .bill
            .services()
            .into_iter()
            .map(|s| (s, first.bill.service_total(s)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
        {
            out.push(format!(
                "The largest part of {}'s bill is {service}: {} of it.",
                first.name,
                percent(v / first.bill.total_usd * 100.0)
            ));
        }
    }
    // Latency is over the served items: a layout that served none has no answers.
    let answered: Vec<_> = l
        .iter()
        .filter(|x| x.items.offered == 0 || x.items.served() > 0)
        .collect();
    if answered.len() > 1 {
        let by_p95 = |a: &&&super::data::LayoutSummary, b: &&&super::data::LayoutSummary| {
            a.latency_ms.p95.total_cmp(&b.latency_ms.p95)
        };
        let fast = answered.iter().min_by(by_p95).expect("not empty");
        let slow = answered.iter().max_by(by_p95).expect("not empty");
        if fast.name != slow.name {
            out.push(format!(
                "The fastest answers come from {}, with 95% of {} within {}, against {} for {}.",
                fast.name,
                r.items_word(),
                duration_ms(fast.latency_ms.p95),
                duration_ms(slow.latency_ms.p95),
                slow.name
            ));
        }
    }
    let throttled: Vec<_> = l.iter().filter(|x| x.total_throttles() > 0).collect();
    if throttled.is_empty() {
        out.push("No layout was throttled.".into());
    }
    for x in throttled {
        let services: Vec<String> = x
            .throttles
            .iter()
            .filter(|(_, v)| **v > 0)
            .map(|(k, _)| k.clone())
            .collect();
        out.push(format!(
            "Throttling appears in {}: {} requests throttled (by {}), {} retries, Lambda concurrency peaking at {}.",
            x.name,
            quantity(x.total_throttles() as f64),
            and_list(&services),
            quantity(x.total_retries() as f64),
            quantity(x.peak_lambda_concurrency as f64)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_have_one_row_per_layout() {
        let r = RunReport::example();
        for g in [
            comparison_grid(&r),
            cost_grid(&r),
            latency_grid(&r),
            load_grid(&r),
        ] {
            assert_eq!(g.rows.len(), 3, "{:?}", g.header);
            assert!(g.rows.iter().all(|row| row.len() == g.header.len()));
            assert_eq!(g.numeric.len(), g.header.len());
        }
        let g = comparison_grid(&r);
        assert_eq!(g.cell(0, "saving vs distributed"), Some("—"));
        assert_eq!(g.cell(1, "saving vs distributed"), Some("95.8%"));
        assert_eq!(g.cell(1, "cost per month"), Some("$992.80"));
        assert_eq!(g.cell(0, "latency p95"), Some("900 ms"));
        assert_eq!(g.cell(1, "capacity"), Some("keeps up"));
        assert_eq!(g.cell(0, "capacity"), Some("throttled"));
        let load = load_grid(&r);
        assert_eq!(
            load.cell(0, "throttles"),
            Some("1,540 (lambda 1,200, step_functions 340)")
        );
        assert_eq!(load.cell(1, "throttles"), Some("0"));
        assert_eq!(
            load.cell(0, "peak Lambda concurrency"),
            Some("1,000 of 1,000")
        );
        assert_eq!(
            load.cell(0, "throttled from"),
            Some("850 streams (step_functions)")
        );
        assert_eq!(load.cell(1, "throttled from"), Some("—"));
    }

    #[test]
    fn cost_grid_marks_absent_services() {
        let r = RunReport::example();
        let g = cost_grid(&r);
        assert_eq!(
            g.header,
            [
                "layout",
                "lambda",
                "step_functions",
                "s3",
                "ec2",
                "fargate",
                "total a month"
            ]
        );
        assert_eq!(g.cell(1, "lambda"), Some("—"));
        // 13.60 for 10 hours is 992.80 for 730.
        assert_eq!(g.cell(1, "ec2"), Some("$992.80"));
        assert_eq!(g.cell(0, "total a month"), Some("$23,695.80"));
    }

    #[test]
    fn headline_and_verdict() {
        let r = RunReport::example();
        let h = headline(&r).unwrap();
        assert_eq!(h.cheapest, "monolith");
        assert_eq!(h.baseline, "distributed");
        let want = (1.0 - h.cheapest_monthly_usd / h.baseline_monthly_usd) * 100.0;
        assert!((h.saving_pct.unwrap() - want).abs() < 1e-9);
        assert_eq!(
            h.wall,
            Some(("distributed".into(), "850 streams (step_functions)".into()))
        );
        assert_eq!(
            verdict(&r),
            "monolith is cheapest at $992.80 a month, 95.8% less than distributed; every \
             layout keeps up, distributed is throttled from 850 streams (step_functions)."
        );
        let mut r2 = r.clone();
        let mut gates = crate::layouts::GateWaits::default();
        gates.add(crate::layouts::Gate::StateTransitions, 1);
        let items = crate::layouts::ItemCounts {
            offered: 100,
            analysed: 19,
            late: 0,
            dropped: 81,
        };
        r2.layouts[0].capacity = crate::layouts::accounting::capacity(&items, &gates, 1.0, 60.0);
        assert_eq!(
            verdict(&r2),
            "monolith is cheapest at $992.80 a month, 95.8% less than distributed; distributed \
             keeps up with 19% of the load; the state-transition quota binds (distributed is \
             throttled from 850 streams (step_functions))."
        );
        r2.layouts.clear();
        assert_eq!(verdict(&r2), "No layout was simulated.");
    }

    #[test]
    fn summary_names_cheapest_and_throttling() {
        let r = RunReport::example();
        let text = summary_sentences(&r).join(" ");
        assert!(
            text.contains("The cheapest layout is monolith, at $992.80 a month"),
            "{text}"
        );
        for want in [
            "95.8% less than distributed, the most expensive at $23,695.80 a month.",
            "Against distributed, monolith costs 95.8% less and cloned-monolith costs 94.6% less.",
            "The largest part of distributed's bill is step_functions: 83.2% of it.",
            "The fastest answers come from cloned-monolith, with 95% of frames within 130 ms, \
             against 900 ms for distributed.",
            "Throttling appears in distributed: 1,540 requests throttled (by lambda and \
             step_functions), 1,150 retries, Lambda concurrency peaking at 1,000.",
        ] {
            assert!(text.contains(want), "`{want}` missing from: {text}");
        }
        assert_eq!(
            and_list(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
    }

    #[test]
    fn a_layout_that_served_nothing_is_not_the_fastest() {
        let mut r = RunReport::example();
        let i = r
            .layouts
            .iter()
            .position(|l| l.name == "cloned-monolith")
            .expect("in the example");
        r.layouts[i].items = crate::layouts::ItemCounts {
            offered: 100,
            analysed: 0,
            late: 0,
            dropped: 100,
        };
        let text = summary_sentences(&r).join(" ");
        assert!(
            !text.contains("The fastest answers come from cloned-monolith"),
            "{text}"
        );
    }

    #[test]
    fn summary_of_nothing_and_of_no_throttling() {
        let mut r = RunReport::example();
        r.layouts[0].throttles.clear();
        assert!(summary_sentences(&r).contains(&"No layout was throttled.".to_string()));
        r.layouts.clear();
        assert_eq!(summary_sentences(&r), ["No layout was simulated."]);
    }
}
