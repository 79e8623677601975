//! `whatif.html`: a sweep as a page a class can play with. One slider per swept
//! dimension; the cost chart, the saving and the verdict follow the sliders, always at
//! a point the sweep actually ran (sliders move from grid value to grid value, so no
//! figure is interpolated). The slider state lives in the URL hash
//! (`#workload.streams=100&workload.chunk_seconds=2`) so a link shares one setting.
//! Self-contained: the data and the script are inline, nothing is fetched.

use std::fmt::Write as _;

use serde::Serialize;

use super::html::escape;
use crate::sweep::scenarios::SweepPoint;
use crate::sweep::value_label;

/// One swept dimension: its dotted path and its values, as labelled in results.csv.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WhatIfDim {
    pub path: String,
    pub values: Vec<String>,
}

/// One grid point: the index of its value in each dimension and what each layout
/// cost there (in [`WhatIf::layouts`] order).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WhatIfPoint {
    pub at: Vec<usize>,
    pub monthly_usd: Vec<f64>,
    pub usd_per_stream_hour: Vec<f64>,
    pub throttles: Vec<u64>,
    pub p50_ms: Vec<f64>,
}

/// Everything the page shows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WhatIf {
    pub scenario: String,
    pub dims: Vec<WhatIfDim>,
    pub layouts: Vec<String>,
    pub points: Vec<WhatIfPoint>,
    /// The per-unit column's label (`per stream-hour`, `per 1,000 requests`); its
    /// figures are in `usd_per_stream_hour`.
    #[serde(skip)]
    pub unit_label: &'static str,
}

impl WhatIf {
    /// The page data of a sweep's points. `dims` are the swept paths in `--vary`
    /// order; each dimension's values are taken in the order the grid met them.
    pub fn from_points(scenario: &str, paths: &[String], points: &[SweepPoint]) -> WhatIf {
        let mut dims: Vec<WhatIfDim> = paths
            .iter()
            .map(|p| WhatIfDim {
                path: p.clone(),
                values: Vec::new(),
            })
            .collect();
        let layouts: Vec<String> = points
            .first()
            .map(|p| p.costs.iter().map(|c| c.layout.clone()).collect())
            .unwrap_or_default();
        let mut out = Vec::with_capacity(points.len());
        for p in points {
            let mut at = Vec::with_capacity(dims.len());
            for d in dims.iter_mut() {
                let label = p
                    .assignments
                    .iter()
                    .find(|(path, _)| *path == d.path)
                    .map(|(_, v)| value_label(v))
                    .unwrap_or_default();
                let i = match d.values.iter().position(|v| *v == label) {
                    Some(i) => i,
                    None => {
                        d.values.push(label);
                        d.values.len() - 1
                    }
                };
                at.push(i);
            }
            out.push(WhatIfPoint {
                at,
                monthly_usd: p.costs.iter().map(|c| c.monthly_usd).collect(),
                usd_per_stream_hour: p.costs.iter().map(|c| c.usd_per_unit()).collect(),
                throttles: p.costs.iter().map(|c| c.throttles).collect(),
                p50_ms: p.costs.iter().map(|c| c.p50_ms).collect(),
            });
        }
        let per_request = points
            .first()
            .and_then(|p| p.costs.first())
            .is_some_and(|c| c.usd_per_1000_requests.is_some());
        WhatIf {
            scenario: scenario.to_string(),
            dims,
            layouts,
            points: out,
            unit_label: if per_request {
                crate::scenario::CostUnit::ThousandRequests.label()
            } else {
                crate::scenario::CostUnit::StreamHour.label()
            },
        }
    }
}

const STYLE: &str = "
body { font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; color: #222;
  max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
.meta { color: #555; margin-top: 0; }
.controls { display: grid; grid-template-columns: minmax(12em, max-content) 1fr 8em; gap: 0.6em 1em;
  align-items: center; background: #f7f7f7; padding: 0.8em 1em; border-radius: 6px; }
.controls input { width: 100%; }
.controls output { font-weight: bold; font-variant-numeric: tabular-nums; }
#verdict { font-size: 1.3em; font-weight: bold; margin: 0.9em 0 0.5em; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
.figures div { flex: 1 1 14em; background: #f4f7fb; border-left: 4px solid #1f77b4; padding: 0.5em 1em; }
.figures .big { display: block; font-size: 2em; font-weight: bold; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; font-size: 0.95em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.cheapest th, tr.cheapest td { background: #eef7ee; }
svg text { font-family: inherit; font-size: 13px; }
.note { color: #555; font-size: 0.9em; }
@media print { .controls input { display: none; } body { margin: 0; max-width: none; } }
";

/// The page's script: reads the inline data, builds the sliders, follows them and
/// the URL hash. Money is shown as the terminal shows it (cents; three significant
/// digits under a cent).
const SCRIPT: &str = r##"
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("whatif-data").textContent);
  var dims = data.dims, layouts = data.layouts;
  var state = dims.map(function () { return 0; });
  var byKey = {};
  data.points.forEach(function (p) { byKey[p.at.join(",")] = p; });

  function usd(v) {
    var a = Math.abs(v), sign = v < 0 ? "-" : "";
    if (a === 0) return "$0.00";
    if (a < 0.005) {
      var d = Math.floor(-Math.log10(a)) + 3;
      return sign + "$" + a.toFixed(d).replace(/0+$/, "");
    }
    return sign + "$" + a.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function rate(v) {
    var a = Math.abs(v);
    if (a === 0 || a >= 1) return usd(v);
    var d = Math.min(Math.floor(-Math.log10(a)) + 3, 12);
    return (v < 0 ? "-$" : "$") + a.toFixed(d);
  }
  function pct(v) { return v.toFixed(1) + "%"; }
  function duration(ms) {
    var a = Math.abs(ms);
    if (a < 10) return ms.toFixed(1) + " ms";
    if (a < 10000) return Math.round(ms).toLocaleString("en-US") + " ms";
    if (a < 60000) return (ms / 1000).toFixed(1) + " s";
    if (a < 600000) return (ms / 60000).toFixed(1) + " min";
    if (a < 3600000) return Math.round(ms / 60000) + " min";
    return (ms / 3600000).toFixed(1) + " h";
  }
  var SVG_TAGS = { svg: 1, rect: 1, text: 1 };
  function el(tag, attrs, text) {
    var e = SVG_TAGS[tag] ? document.createElementNS("http://www.w3.org/2000/svg", tag)
      : document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Sliders, one per dimension.
  var controls = document.getElementById("controls");
  var inputs = dims.map(function (d, i) {
    var label = el("label", { "for": "dim-" + i }, d.path);
    var input = el("input", { type: "range", id: "dim-" + i, min: "0", max: String(d.values.length - 1),
      step: "1", value: "0", "data-path": d.path });
    var out = el("output", { id: "dim-" + i + "-value", "for": "dim-" + i }, d.values[0]);
    input.addEventListener("input", function () { state[i] = Number(input.value); update(true); });
    controls.appendChild(label); controls.appendChild(input); controls.appendChild(out);
    return input;
  });

  // The nearest grid value to a hash value: exact label, else numerically nearest.
  function nearest(d, text) {
    var exact = d.values.indexOf(text);
    if (exact >= 0) return exact;
    var x = Number(text);
    if (!isFinite(x)) return 0;
    var best = 0, dist = Infinity;
    d.values.forEach(function (v, i) {
      var dv = Math.abs(Number(v) - x);
      if (dv < dist) { dist = dv; best = i; }
    });
    return best;
  }
  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    dims.forEach(function (d, i) {
      if (params.has(d.path)) state[i] = nearest(d, params.get(d.path));
      inputs[i].value = String(state[i]);
    });
  }
  function writeHash() {
    var parts = dims.map(function (d, i) {
      return encodeURIComponent(d.path) + "=" + encodeURIComponent(d.values[state[i]]);
    });
    history.replaceState(null, "", "#" + parts.join("&"));
  }

  function update(fromSlider) {
    dims.forEach(function (d, i) { document.getElementById("dim-" + i + "-value").textContent = d.values[state[i]]; });
    if (fromSlider) writeHash();
    var p = byKey[state.join(",")];
    var verdict = document.getElementById("verdict");
    var setting = dims.map(function (d, i) { return d.path + " = " + d.values[state[i]]; }).join(", ");
    if (!p) { verdict.textContent = "The sweep has no point at " + setting + "."; return; }
    var cheapest = 0;
    p.monthly_usd.forEach(function (v, i) { if (v < p.monthly_usd[cheapest]) cheapest = i; });
    var base = p.monthly_usd[0];
    var saving = base > 0 ? (1 - p.monthly_usd[cheapest] / base) * 100 : null;
    var words = "At " + setting + ": " + layouts[cheapest] + " is cheapest at " + usd(p.monthly_usd[cheapest]) + " a month";
    if (cheapest !== 0 && saving !== null) words += ", " + pct(saving) + " less than " + layouts[0];
    var throttled = layouts.filter(function (_, i) { return p.throttles[i] > 0; });
    words += throttled.length ? "; throttled: " + throttled.join(", ") + "." : "; no layout is throttled.";
    verdict.textContent = words;
    document.getElementById("saving").textContent = cheapest !== 0 && saving !== null ? pct(saving) : "—";
    document.getElementById("saving-what").textContent = cheapest !== 0 ?
      "saving of " + layouts[cheapest] + " against " + layouts[0] : layouts[0] + " is the cheapest";
    document.getElementById("cheapest-cost").textContent = usd(p.monthly_usd[cheapest]);
    document.getElementById("cheapest-what").textContent = "a month for " + layouts[cheapest] + ", the cheapest";

    var body = document.getElementById("layouts-body");
    body.textContent = "";
    layouts.forEach(function (name, i) {
      var tr = el("tr", { "data-layout": name, "class": i === cheapest ? "cheapest" : "" });
      tr.appendChild(el("th", {}, name));
      var cells = [
        ["cost", usd(p.monthly_usd[i])],
        ["rate", rate(p.usd_per_stream_hour[i])],
        ["saving", i === 0 || base <= 0 ? "—" : pct((1 - p.monthly_usd[i] / base) * 100)],
        ["p50", duration(p.p50_ms[i])],
        ["throttles", p.throttles[i].toLocaleString("en-US")]
      ];
      cells.forEach(function (c) { tr.appendChild(el("td", { "class": "num " + c[0] }, c[1])); });
      body.appendChild(tr);
    });
    chart(p, cheapest);
  }

  // Horizontal bars of the cost a month, on a scale fixed over the whole sweep so
  // moving a slider shows the bars grow and shrink.
  var top = 0;
  data.points.forEach(function (p) { p.monthly_usd.forEach(function (v) { if (v > top) top = v; }); });
  function chart(p, cheapest) {
    var holder = document.getElementById("chart");
    holder.textContent = "";
    var W = 1000, row = 34, left = 170, right = 140, H = 30 + row * layouts.length;
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, width: "100%", role: "img",
      "aria-label": "Cost a month of each layout at this setting" });
    layouts.forEach(function (name, i) {
      var y = 20 + i * row, w = top > 0 ? (W - left - right) * p.monthly_usd[i] / top : 0;
      svg.appendChild(el("text", { x: left - 8, y: y + 17, "text-anchor": "end" }, name));
      svg.appendChild(el("rect", { x: left, y: y + 4, width: Math.max(w, 1).toFixed(1), height: row - 10,
        fill: i === cheapest ? "#2ca02c" : "#1f77b4" }));
      svg.appendChild(el("text", { x: left + w + 6, y: y + 17 }, usd(p.monthly_usd[i])));
    });
    holder.appendChild(svg);
  }

  window.addEventListener("hashchange", function () { readHash(); update(false); });
  readHash();
  update(false);
})();
"##;

/// The page. The data goes in as JSON inside a `<script type="application/json">`,
/// with `</` escaped so no value can close the element.
pub fn render(w: &WhatIf) -> String {
    let json = serde_json::to_string(w)
        .unwrap_or_else(|_| "{}".into())
        .replace("</", "<\\/");
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    let _ = writeln!(o, "<title>archsim what-if: {}</title>", escape(&w.scenario));
    let _ = writeln!(o, "<style>{STYLE}</style>\n</head>\n<body>");
    let _ = writeln!(o, "<h1>What if… {}</h1>", escape(&w.scenario));
    let paths: Vec<&str> = w.dims.iter().map(|d| d.path.as_str()).collect();
    let _ = writeln!(
        o,
        "<p class=\"meta\">{} runs of the scenario over {}; {} layouts. Move a slider: the \
         figures are those of the run at that grid point (nothing is interpolated). The \
         address bar keeps the setting, so a link shares it.</p>",
        w.points.len(),
        escape(&paths.join(" × ")),
        w.layouts.len()
    );
    o.push_str("<div class=\"controls\" id=\"controls\"></div>\n");
    o.push_str("<noscript><p>This page needs JavaScript for its sliders; the same figures are in results.csv beside it.</p></noscript>\n");
    o.push_str("<p id=\"verdict\"></p>\n<div class=\"figures\">\n");
    o.push_str(
        "<div><span class=\"big\" id=\"saving\"></span><span id=\"saving-what\"></span></div>\n",
    );
    o.push_str("<div><span class=\"big\" id=\"cheapest-cost\"></span><span id=\"cheapest-what\"></span></div>\n</div>\n");
    o.push_str("<div id=\"chart\"></div>\n<p class=\"note\">Cost a month of each layout at this setting, the cheapest in green; the scale is fixed over the whole sweep, so the bars grow and shrink as the sliders move.</p>\n");
    let _ = writeln!(
        o,
        "<table>\n<thead><tr><th>layout</th><th>cost per month</th><th>{}</th>\
         <th>saving vs {}</th><th>latency p50</th><th>throttles</th></tr></thead>\n\
         <tbody id=\"layouts-body\"></tbody>\n</table>",
        w.unit_label,
        escape(w.layouts.first().map_or("", String::as_str))
    );
    o.push_str(
        "<p class=\"note\">Each point ran with sampled kernels; costs per month project \
         the simulated period's usage to a 730-hour month, then price it. Throttles are requests the quotas delayed.</p>\n",
    );
    let _ = writeln!(
        o,
        "<script type=\"application/json\" id=\"whatif-data\">{json}</script>"
    );
    let _ = writeln!(o, "<script>{SCRIPT}</script>\n</body>\n</html>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::scenarios::VariantCost;
    use toml::Value;

    fn point(streams: i64, chunk: i64) -> SweepPoint {
        let cost = |layout: &str, usd: f64| VariantCost {
            layout: layout.into(),
            monthly_usd: usd,
            usd_per_stream_hour: usd / 730.0 / streams as f64,
            usd_per_1000_requests: None,
            throttles: 0,
            p50_ms: 100.0,
        };
        SweepPoint {
            assignments: vec![
                ("workload.streams".into(), Value::Integer(streams)),
                ("workload.chunk_seconds".into(), Value::Integer(chunk)),
            ],
            costs: vec![
                cost("distributed", 10.0 * streams as f64 / chunk as f64),
                cost("monolith", 50.0 + streams as f64),
            ],
        }
    }

    fn sample() -> WhatIf {
        let points: Vec<SweepPoint> = [1, 10, 100]
            .iter()
            .flat_map(|&s| [2, 4].map(|c| point(s, c)))
            .collect();
        let paths = [
            "workload.streams".to_string(),
            "workload.chunk_seconds".to_string(),
        ];
        WhatIf::from_points("low-traffic </script>", &paths, &points)
    }

    #[test]
    fn every_point_is_indexed_on_every_dimension() {
        let w = sample();
        assert_eq!(w.dims[0].values, ["1", "10", "100"]);
        assert_eq!(w.dims[1].values, ["2", "4"]);
        assert_eq!(w.layouts, ["distributed", "monolith"]);
        assert_eq!(w.points.len(), 6);
        let p = w.points.iter().find(|p| p.at == [2, 1]).unwrap();
        assert_eq!(p.monthly_usd, [250.0, 150.0]);
    }

    #[test]
    fn page_is_self_contained_with_its_data_inline() {
        let w = sample();
        let html = render(&w);
        assert!(html.contains("id=\"whatif-data\""));
        assert!(html.contains("location.hash"));
        // Nothing fetched: no src or href, no fetch or XHR.
        for bad in [
            "src=",
            "href=",
            "fetch(",
            "XMLHttpRequest",
            "@import",
            "url(",
        ] {
            assert!(!html.contains(bad), "`{bad}` in the page");
        }
        // A value cannot close the data element early.
        assert_eq!(html.matches("</script>").count(), 2, "{html}");
        let start = html.find("id=\"whatif-data\">").unwrap() + "id=\"whatif-data\">".len();
        let end = start + html[start..].find("</script>").unwrap();
        let back: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
        assert_eq!(back["dims"][0]["path"], "workload.streams");
        assert_eq!(back["points"][5]["monthly_usd"][0], 250.0);
        assert_eq!(back["scenario"], "low-traffic </script>");
        assert_eq!(render(&w), html, "same data, same bytes");
    }
}
