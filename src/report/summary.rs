//! What the HTML page and the terminal table both say: the comparison rows and the
//! plain-words summary, computed once from a [`RunReport`].

use super::data::RunReport;
use super::money::{millis, percent, quantity, usd, usd_rate};
use crate::pricing::Service;

/// One row of the comparison: a label and one cell per layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub label: String,
    pub cells: Vec<String>,
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

/// The comparison rows, one cell per layout, in the report's layout order.
pub fn comparison_rows(r: &RunReport) -> Vec<Row> {
    let first = r.layouts.first().map_or("", |l| l.name.as_str());
    let row = |label: String, f: &dyn Fn(usize) -> String| Row {
        label,
        cells: (0..r.layouts.len()).map(f).collect(),
    };
    let l = &r.layouts;
    vec![
        row("kind".into(), &|i| l[i].kind.clone()),
        row("cost of the period".into(), &|i| {
            format!(
                "{} ({} h)",
                usd(l[i].period_usd()),
                quantity(l[i].period_hours)
            )
        }),
        row("cost per month".into(), &|i| usd(l[i].monthly_usd)),
        row("cost per stream-hour".into(), &|i| {
            usd_rate(l[i].usd_per_stream_hour)
        }),
        row(
            format!("saving vs {first}"),
            &|i| match r.saving_vs_first_pct(i) {
                Some(s) => percent(s),
                None => "—".into(),
            },
        ),
        row("latency p50".into(), &|i| millis(l[i].latency_ms.p50)),
        row("latency p95".into(), &|i| millis(l[i].latency_ms.p95)),
        row("latency p99".into(), &|i| millis(l[i].latency_ms.p99)),
        row("latency max".into(), &|i| millis(l[i].latency_ms.max)),
        row("frames analyzed".into(), &|i| {
            quantity(l[i].frames_analyzed as f64)
        }),
        row("throttles".into(), &|i| counts(&l[i].throttles)),
        row("retries".into(), &|i| counts(&l[i].retries)),
        row("peak Lambda concurrency".into(), &|i| {
            quantity(l[i].peak_lambda_concurrency as f64)
        }),
        row("peak instances".into(), &|i| {
            quantity(l[i].peak_instances as f64)
        }),
    ]
}

/// Cost of the period by service, one row per service present in any layout, then
/// the total.
pub fn service_rows(r: &RunReport) -> Vec<Row> {
    let mut rows: Vec<Row> = Service::ALL
        .into_iter()
        .filter(|s| r.layouts.iter().any(|l| l.bill.has(*s)))
        .map(|s| Row {
            label: s.label().to_string(),
            cells: r
                .layouts
                .iter()
                .map(|l| {
                    if l.bill.has(s) {
                        usd(l.bill.service_total(s))
                    } else {
                        "—".into()
                    }
                })
                .collect(),
        })
        .collect();
    rows.push(Row {
        label: "total".into(),
        cells: r.layouts.iter().map(|l| usd(l.period_usd())).collect(),
    });
    rows
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
        a.monthly_usd.total_cmp(&b.monthly_usd)
    };
    let cheapest = l.iter().min_by(by_cost).expect("not empty");
    let dearest = l.iter().max_by(by_cost).expect("not empty");
    if l.len() == 1 {
        out.push(format!(
            "{} costs {} a month ({} per stream-hour).",
            cheapest.name,
            usd(cheapest.monthly_usd),
            usd_rate(cheapest.usd_per_stream_hour)
        ));
    } else {
        let mut s = format!(
            "The cheapest layout is {}, at {} a month ({} per stream-hour)",
            cheapest.name,
            usd(cheapest.monthly_usd),
            usd_rate(cheapest.usd_per_stream_hour)
        );
        if dearest.monthly_usd > 0.0 && dearest.name != cheapest.name {
            s += &format!(
                ": {} less than {}, the most expensive at {} a month.",
                percent((1.0 - cheapest.monthly_usd / dearest.monthly_usd) * 100.0),
                dearest.name,
                usd(dearest.monthly_usd)
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
    if l.len() > 1 {
        let by_p95 = |a: &&super::data::LayoutSummary, b: &&super::data::LayoutSummary| {
            a.latency_ms.p95.total_cmp(&b.latency_ms.p95)
        };
        let fast = l.iter().min_by(by_p95).expect("not empty");
        let slow = l.iter().max_by(by_p95).expect("not empty");
        if fast.name != slow.name {
            out.push(format!(
                "The fastest answers come from {}, with 95% of frames within {}, against {} for {}.",
                fast.name,
                millis(fast.latency_ms.p95),
                millis(slow.latency_ms.p95),
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
    fn rows_have_one_cell_per_layout() {
        let r = RunReport::example();
        for row in comparison_rows(&r).iter().chain(service_rows(&r).iter()) {
            assert_eq!(row.cells.len(), 3, "{}", row.label);
        }
        let rows = comparison_rows(&r);
        let saving = rows
            .iter()
            .find(|r| r.label == "saving vs distributed")
            .unwrap();
        assert_eq!(saving.cells[0], "—");
        assert_eq!(saving.cells[1], "95.8%");
        let throttles = rows.iter().find(|r| r.label == "throttles").unwrap();
        assert_eq!(
            throttles.cells[0],
            "1,540 (lambda 1,200, step_functions 340)"
        );
        assert_eq!(throttles.cells[1], "0");
    }

    #[test]
    fn service_rows_mark_absent_services() {
        let r = RunReport::example();
        let rows = service_rows(&r);
        let labels: Vec<_> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(
            labels,
            ["lambda", "step_functions", "s3", "ec2", "fargate", "total"]
        );
        assert_eq!(rows[0].cells[1], "—");
        assert_eq!(rows[3].cells[1], "$13.60");
        assert_eq!(rows[5].cells[0], "$324.60");
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
    fn summary_of_nothing_and_of_no_throttling() {
        let mut r = RunReport::example();
        r.layouts[0].throttles.clear();
        assert!(summary_sentences(&r).contains(&"No layout was throttled.".to_string()));
        r.layouts.clear();
        assert_eq!(summary_sentences(&r), ["No layout was simulated."]);
    }
}
