//! Charts, one function each, drawn with plotters into an SVG string or PNG bytes.
//! Text uses the DejaVu Sans font embedded in the binary, so charts render the same
//! on a machine without fonts.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{item_word, items_word, LayoutSummary, Sensitivity, SweepData, TimelinePoint};
use super::money::usd_axis;
use crate::error::{Error, Result};
use crate::pricing::Service;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Registers the embedded font under the `sans-serif` family, once.
fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is a fixed, known-good file; if it could not be parsed every
        // chart would fail with a drawing error naming the missing font.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// Default chart size, pixels.
pub const WIDTH: u32 = 1000;
pub const HEIGHT: u32 = 600;

const TITLE: u32 = 28;
const LABEL: u32 = 18;
const DESC: u32 = 20;

/// Colours for layouts (series), in order.
const LAYOUT_COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(230, 110, 20),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn layout_color(i: usize) -> RGBColor {
    LAYOUT_COLORS[i % LAYOUT_COLORS.len()]
}

/// A service's chart colour, as [`Service::color`] sets it.
fn service_color(s: Service) -> RGBColor {
    let (r, g, b) = s.color();
    RGBColor(r, g, b)
}

/// A chart ready to be drawn.
#[derive(Debug, Clone, Copy)]
pub enum Chart<'a> {
    /// Monthly cost by layout, stacked by service.
    Cost(&'a [LayoutSummary]),
    /// Latency CDF of each layout, log x axis.
    LatencyCdf(&'a [LayoutSummary]),
    /// Active streams, Lambda concurrency, throttles and instances of one layout.
    Timeline(&'a LayoutSummary),
    /// Monthly cost against a swept parameter, log–log, crossovers marked.
    Sweep(&'a SweepData),
    /// Saving at the low and high value of each assumption around the baseline.
    Tornado(&'a Sensitivity),
}

/// Monthly cost of each layout, stacked by service.
pub fn cost_by_layout(layouts: &[LayoutSummary]) -> Chart<'_> {
    Chart::Cost(layouts)
}

/// Latency CDF per layout, log x axis in milliseconds.
pub fn latency_cdf(layouts: &[LayoutSummary]) -> Chart<'_> {
    Chart::LatencyCdf(layouts)
}

/// Timeline of one layout: small panels sharing the time axis, one per series the
/// layout has.
pub fn timeline(layout: &LayoutSummary) -> Chart<'_> {
    Chart::Timeline(layout)
}

/// Cost per month against the swept parameter, log–log, one line per layout.
pub fn sweep(data: &SweepData) -> Chart<'_> {
    Chart::Sweep(data)
}

/// Tornado chart of the saving's sensitivity to each assumption.
pub fn tornado(s: &Sensitivity) -> Chart<'_> {
    Chart::Tornado(s)
}

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw_err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> Error {
    Error::Other(format!("drawing a chart: {e}"))
}

impl Chart<'_> {
    /// Size in pixels.
    pub fn size(&self) -> (u32, u32) {
        match self {
            Chart::Tornado(s) => (WIDTH, HEIGHT.max(180 + 60 * s.bars.len() as u32)),
            // One or two panels side by side need half the height of a 2x2 grid.
            Chart::Timeline(l) if !l.timeline.is_empty() && timeline_panels(l).len() <= 2 => {
                (WIDTH, HEIGHT * 3 / 5)
            }
            _ => (WIDTH, HEIGHT),
        }
    }

    /// The chart as an SVG document.
    pub fn svg(&self) -> Result<String> {
        ensure_font();
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, self.size()).into_drawing_area();
            self.draw(&root).map_err(draw_err)?;
            root.present().map_err(draw_err)?;
        }
        Ok(out)
    }

    /// The chart as a PNG image.
    pub fn png(&self) -> Result<Vec<u8>> {
        use image::ImageEncoder;
        ensure_font();
        let (w, h) = self.size();
        let mut buf = vec![0u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            self.draw(&root).map_err(draw_err)?;
            root.present().map_err(draw_err)?;
        }
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(&buf, w, h, image::ExtendedColorType::Rgb8)
            .map_err(|e| Error::Other(format!("encoding a PNG: {e}")))?;
        Ok(out)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        match *self {
            Chart::Cost(l) => draw_cost(root, l),
            Chart::LatencyCdf(l) => draw_cdf(root, l),
            Chart::Timeline(l) => draw_timeline(root, l),
            Chart::Sweep(s) => draw_sweep(root, s),
            Chart::Tornado(s) => draw_tornado(root, s),
        }
    }
}

fn font(size: u32) -> FontDesc<'static> {
    (FAMILY, size).into_font()
}

fn anchored(size: u32, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle::from(font(size)).pos(Pos::new(h, v))
}

fn message<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, text: &str) -> DrawResult<DB> {
    let (w, h) = root.dim_in_pixel();
    root.draw(&Text::new(
        text.to_string(),
        (w as i32 / 2, h as i32 / 2),
        anchored(DESC, HPos::Center, VPos::Center),
    ))
}

fn draw_cost<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    layouts: &[LayoutSummary],
) -> DrawResult<DB> {
    if layouts.is_empty() {
        return message(root, "no layouts to show");
    }
    let n = layouts.len() as u32;
    // (service, layout index, bottom, top), negative credits left out.
    let mut stacks = Vec::new();
    let mut tops = vec![0.0_f64; layouts.len()];
    for (li, l) in layouts.iter().enumerate() {
        // With replications the bar is the mean, split in the first replication's
        // proportions, and an error bar spans the 95% interval.
        let scale = match &l.replicated {
            Some(e) if l.monthly_usd > 0.0 => e.monthly_usd.mean / l.monthly_usd,
            _ => 1.0,
        };
        for (service, v) in l.monthly_by_service() {
            let v = v * scale;
            if v > 0.0 {
                stacks.push((service, li, tops[li], tops[li] + v));
                tops[li] += v;
            }
        }
    }
    let intervals: Vec<Option<[f64; 2]>> = layouts
        .iter()
        .map(|l| l.replicated.as_ref().map(|e| e.monthly_usd.ci95))
        .collect();
    let top = tops
        .iter()
        .copied()
        .chain(intervals.iter().flatten().map(|c| c[1]))
        .fold(0.0, f64::max);
    let ymax = if top > 0.0 && top.is_finite() {
        top * 1.15
    } else {
        1.0
    };
    let names: Vec<String> = layouts.iter().map(|l| l.name.clone()).collect();
    let mut chart = ChartBuilder::on(root)
        .caption("Monthly cost by layout, stacked by service", font(TITLE))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(110)
        .build_cartesian_2d((0..n - 1).into_segmented(), 0.0..ymax)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n as usize + 1)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => names.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .y_label_formatter(&|v| usd_axis(*v))
        .x_desc("layout")
        .y_desc("USD per month")
        .label_style(font(LABEL))
        .axis_desc_style(font(DESC))
        .draw()?;
    for service in Service::ALL {
        let mine: Vec<_> = stacks.iter().filter(|s| s.0 == service).collect();
        if mine.is_empty() {
            continue;
        }
        let color = service_color(service);
        let margin = (WIDTH / (n * 8)).min(80);
        chart
            .draw_series(mine.iter().map(|&&(_, li, y0, y1)| {
                let li = li as u32;
                let mut r = Rectangle::new(
                    [
                        (SegmentValue::Exact(li), y0),
                        (SegmentValue::Exact(li + 1), y1),
                    ],
                    color.filled(),
                );
                r.set_margin(0, 0, margin, margin);
                r
            }))?
            .label(service.label())
            .legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 14, y + 7)], color.filled()));
    }
    for (i, ci) in intervals.iter().enumerate() {
        let Some([lo, hi]) = *ci else { continue };
        let x = SegmentValue::CenterOf(i as u32);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x.clone(), lo), (x, hi)],
            BLACK.stroke_width(2),
        )))?;
        chart.draw_series([lo, hi].map(|y| {
            EmptyElement::at((SegmentValue::CenterOf(i as u32), y))
                + PathElement::new(vec![(-8, 0), (8, 0)], BLACK.stroke_width(2))
        }))?;
    }
    chart.draw_series(layouts.iter().enumerate().map(|(i, l)| {
        let (label, y) = match (&l.replicated, intervals[i]) {
            (Some(e), Some([_, hi])) => (
                format!(
                    "{} ± {}",
                    usd_axis(e.monthly_usd.mean),
                    usd_axis(e.monthly_usd.half_width())
                ),
                hi.max(tops[i]),
            ),
            _ => (usd_axis(l.monthly_usd), tops[i]),
        };
        Text::new(
            label,
            (SegmentValue::CenterOf(i as u32), y),
            anchored(LABEL, HPos::Center, VPos::Bottom),
        )
    }))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(font(LABEL))
        .draw()?;
    Ok(())
}

/// Smallest and largest positive value of `xs`, padded for a log axis.
fn log_range(xs: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = xs
        .filter(|x| x.is_finite() && *x > 0.0)
        .fold((f64::INFINITY, 0.0_f64), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
    if hi == 0.0 {
        return None;
    }
    let hi = if hi / lo < 10.0 { hi * 1.5 } else { hi * 1.25 };
    Some((lo / 1.25, hi))
}

fn draw_cdf<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    layouts: &[LayoutSummary],
) -> DrawResult<DB> {
    let Some((x0, x1)) = log_range(
        layouts
            .iter()
            .flat_map(|l| l.latency_cdf.iter().map(|p| p.0)),
    ) else {
        return message(root, "no latencies recorded");
    };
    let mut chart = ChartBuilder::on(root)
        .caption("Latency CDF by layout", font(TITLE))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d((x0..x1).log_scale(), 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_labels(12)
        .x_desc(format!(
            "latency per {} (ms, log scale)",
            item_word(layouts)
        ))
        .y_desc(format!("fraction of {} answered", items_word(layouts)))
        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .x_label_formatter(&|v| format_number(*v))
        .label_style(font(LABEL))
        .axis_desc_style(font(DESC))
        .draw()?;
    for (i, l) in layouts.iter().enumerate() {
        let color = layout_color(i);
        chart
            .draw_series(LineSeries::new(
                thin_curve(&l.latency_cdf).into_iter().filter(|p| p.0 > 0.0),
                color.stroke_width(3),
            ))?
            .label(l.name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(font(LABEL))
        .draw()?;
    Ok(())
}

/// A number for an axis: integers with no decimals, others with at most 3
/// significant digits.
pub(crate) fn format_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.0e}", v)
    } else if a >= 100.0 || v == v.trunc() {
        super::money::quantity(v.round())
    } else if a >= 1.0 {
        format!("{}", (v * 10.0).round() / 10.0)
    } else {
        let digits = (-a.log10()).ceil() as usize + 1;
        format!("{v:.digits$}")
    }
}

/// Most points drawn per line; longer series are thinned first.
pub const MAX_POINTS: usize = 2000;

/// At most [`MAX_POINTS`] buckets of `points`, each keeping its first time and the
/// peak of every series, so short spikes (throttles) stay visible.
fn thin_timeline(points: &[TimelinePoint]) -> Vec<TimelinePoint> {
    if points.len() <= MAX_POINTS {
        return points.to_vec();
    }
    let per = points.len().div_ceil(MAX_POINTS);
    points
        .chunks(per)
        .map(|c| {
            let max = |f: fn(&TimelinePoint) -> f64| c.iter().map(f).fold(f64::MIN, f64::max);
            TimelinePoint {
                time_s: c[0].time_s,
                active_streams: max(|p| p.active_streams),
                lambda_concurrency: max(|p| p.lambda_concurrency),
                throttles_per_s: max(|p| p.throttles_per_s),
                instances: max(|p| p.instances),
            }
        })
        .collect()
}

/// At most [`MAX_POINTS`] evenly picked points of a curve, always keeping the last.
fn thin_curve(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= MAX_POINTS {
        return points.to_vec();
    }
    let step = points.len().div_ceil(MAX_POINTS);
    let mut out: Vec<(f64, f64)> = points.iter().step_by(step).copied().collect();
    if let Some(last) = points.last() {
        if out.last() != Some(last) {
            out.push(*last);
        }
    }
    out
}

fn draw_timeline<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    layout: &LayoutSummary,
) -> DrawResult<DB> {
    let area = root.titled(&format!("Timeline — {}", layout.name), font(TITLE))?;
    if layout.timeline.is_empty() {
        return message(&area, "no timeline recorded");
    }
    let timeline = thin_timeline(&layout.timeline);
    let t_end = timeline.iter().map(|p| p.time_s).fold(0.0_f64, f64::max);
    let (scale, unit) = if t_end > 4.0 * 3600.0 {
        (3600.0, "h")
    } else if t_end > 600.0 {
        (60.0, "min")
    } else {
        (1.0, "s")
    };
    let t_end = (t_end / scale).max(1e-9);
    let panels = timeline_panels(layout);
    let cells = match panels.len() {
        1 => vec![area.clone()],
        2 => area.split_evenly((1, 2)),
        _ => area.split_evenly((2, 2)),
    };
    for (panel, cell) in panels.into_iter().zip(cells.iter()) {
        let get = panel.get;
        let peak = timeline.iter().map(get).fold(0.0_f64, f64::max);
        let top = panel.limit.as_ref().map_or(peak, |(v, _)| peak.max(*v));
        let ymax = if top > 0.0 { top * 1.1 } else { 1.0 };
        let mut chart = ChartBuilder::on(cell)
            .caption(panel.title, font(DESC))
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..t_end, 0.0..ymax)?;
        chart
            .configure_mesh()
            .x_desc(format!("time ({unit})"))
            .y_desc(panel.unit)
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&|v| format_number(*v))
            .y_label_formatter(&|v| format_number(*v))
            .label_style(font(LABEL - 2))
            .axis_desc_style(font(LABEL - 2))
            .draw()?;
        chart.draw_series(LineSeries::new(
            timeline.iter().map(|p| (p.time_s / scale, get(p))),
            panel.color.stroke_width(2),
        ))?;
        if let Some((v, label)) = &panel.limit {
            let red = layout_color(3);
            chart.draw_series(DashedLineSeries::new(
                [(0.0, *v), (t_end, *v)],
                8,
                5,
                red.stroke_width(2),
            ))?;
            chart.draw_series(std::iter::once(Text::new(
                label.clone(),
                (t_end * 0.02, *v),
                anchored(LABEL - 2, HPos::Left, VPos::Bottom).color(&red),
            )))?;
        }
    }
    Ok(())
}

/// One panel of a timeline: a series and, where a quota binds it, the quota's line.
struct Panel {
    title: &'static str,
    unit: &'static str,
    get: fn(&TimelinePoint) -> f64,
    color: RGBColor,
    /// A horizontal line: value and label.
    limit: Option<(f64, String)>,
}

/// A quota is drawn on a panel when the series comes within this fraction of it:
/// further off it does not bind, and drawing it would flatten the series.
const QUOTA_NEAR: f64 = 0.5;

/// The panels a layout has: active streams (a request source: its arrival rate, which
/// the timeline samples in their place) always; Lambda concurrency, throttles and
/// instances only when the layout has them (no empty panels). The Lambda concurrency
/// quota and the stream count where throttling starts are drawn where they bind.
fn timeline_panels(layout: &LayoutSummary) -> Vec<Panel> {
    let peak = |f: fn(&TimelinePoint) -> f64| layout.timeline.iter().map(f).fold(0.0, f64::max);
    let near = |peak: f64, limit: f64| limit > 0.0 && peak >= QUOTA_NEAR * limit;
    let requests = layout.usd_per_1000_requests.is_some();
    let mut panels = vec![Panel {
        title: if requests {
            "Request rate"
        } else {
            "Active streams"
        },
        unit: if requests {
            "requests per second"
        } else {
            "streams"
        },
        get: |p| p.active_streams,
        color: layout_color(0),
        limit: layout
            .throttling_starts_at_streams
            .map(f64::from)
            .filter(|&n| near(peak(|p| p.active_streams), n))
            .map(|n| (n, format!("throttled from {} streams", format_number(n)))),
    }];
    if layout.lambda_concurrency_quota.is_some() || peak(|p| p.lambda_concurrency) > 0.0 {
        panels.push(Panel {
            title: "Lambda concurrency",
            unit: "concurrent executions",
            get: |p| p.lambda_concurrency,
            color: service_color(Service::Lambda),
            limit: layout
                .lambda_concurrency_quota
                .map(|q| q as f64)
                .filter(|&q| near(peak(|p| p.lambda_concurrency), q))
                .map(|q| (q, format!("concurrency quota {}", format_number(q)))),
        });
    }
    if peak(|p| p.throttles_per_s) > 0.0 {
        panels.push(Panel {
            title: "Throttles",
            unit: "throttles per second",
            get: |p| p.throttles_per_s,
            color: layout_color(3),
            limit: None,
        });
    }
    if peak(|p| p.instances) > 0.0 {
        panels.push(Panel {
            title: "Instances",
            unit: "instances or tasks",
            get: |p| p.instances,
            color: service_color(Service::Ec2),
            limit: None,
        });
    }
    panels
}

fn draw_sweep<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &SweepData,
) -> DrawResult<DB> {
    let points = || data.series.iter().flat_map(|s| s.points.iter().copied());
    let (Some((x0, x1)), Some((y0, y1))) = (
        log_range(points().filter(|p| p.1 > 0.0).map(|p| p.0)),
        log_range(points().filter(|p| p.0 > 0.0).map(|p| p.1)),
    ) else {
        return message(root, "no sweep points with positive values");
    };
    let mut chart = ChartBuilder::on(root)
        .caption(format!("Monthly cost vs {}", data.x_label), font(TITLE))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(110)
        .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
    chart
        .configure_mesh()
        .x_desc(format!("{} ({}, log scale)", data.x_label, data.parameter))
        .y_desc("USD per month (log scale)")
        .x_label_formatter(&|v| format_number(*v))
        .y_label_formatter(&|v| usd_axis(*v))
        .label_style(font(LABEL))
        .axis_desc_style(font(DESC))
        .draw()?;
    for (i, s) in data.series.iter().enumerate() {
        let color = layout_color(i);
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|p| p.0 > 0.0 && p.1 > 0.0)
            .collect();
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(3)))?
            .label(s.layout.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    let marks: Vec<_> = data
        .crossovers
        .iter()
        .filter(|c| c.x > 0.0 && c.usd_per_month > 0.0)
        .collect();
    if !marks.is_empty() {
        chart
            .draw_series(
                marks
                    .iter()
                    .map(|c| Circle::new((c.x, c.usd_per_month), 7, BLACK.filled())),
            )?
            .label("crossover")
            .legend(|(x, y)| Circle::new((x + 10, y), 6, BLACK.filled()));
        chart.draw_series(marks.iter().map(|c| {
            // A pixel offset from the mark: SVG viewers collapse leading spaces.
            EmptyElement::at((c.x, c.usd_per_month))
                + Text::new(
                    format!(
                        "{} at {} ({})",
                        c.label,
                        format_number(c.x),
                        usd_axis(c.usd_per_month)
                    ),
                    (12, 6),
                    anchored(LABEL, HPos::Left, VPos::Top),
                )
        }))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(font(LABEL))
        .draw()?;
    Ok(())
}

fn draw_tornado<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Sensitivity,
) -> DrawResult<DB> {
    if s.bars.is_empty() {
        return message(root, "no assumptions with a range");
    }
    let finite = s.baseline_saving_pct.is_finite()
        && s.bars
            .iter()
            .all(|b| b.low_saving_pct.is_finite() && b.high_saving_pct.is_finite());
    if !finite {
        // A layout compared against one that cost nothing has no saving.
        return message(
            root,
            "no saving to show: the layout compared against costs nothing",
        );
    }
    // Widest bar on top: the y axis counts upwards, so sort by span ascending.
    let mut bars: Vec<_> = s.bars.iter().collect();
    bars.sort_by(|a, b| {
        let span = |x: &&super::data::SensitivityBar| (x.high_saving_pct - x.low_saving_pct).abs();
        span(a).total_cmp(&span(b))
    });
    let n = bars.len() as u32;
    let base = s.baseline_saving_pct;
    let (lo, hi) = bars.iter().fold((base, base), |(lo, hi), b| {
        (
            lo.min(b.low_saving_pct).min(b.high_saving_pct),
            hi.max(b.low_saving_pct).max(b.high_saving_pct),
        )
    });
    let pad = ((hi - lo) * 0.35).max(5.0);
    let names: Vec<String> = bars.iter().map(|b| b.assumption.clone()).collect();
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0) as u32;
    let label_width = (longest * 10 + 30).clamp(80, 420);
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("Sensitivity of the saving: {}", s.comparison),
            font(TITLE),
        )
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(label_width)
        .build_cartesian_2d((lo - pad)..(hi + pad), -0.5..(n as f64 - 0.5))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_label_formatter(&|v| format!("{}%", format_number(*v)))
        .x_desc(format!("saving (%), baseline {:.1}%", base))
        .label_style(font(LABEL))
        .axis_desc_style(font(DESC))
        .draw()?;
    // Assumption names left of the bars, placed by hand: a mesh needs two or more
    // key points to label an axis.
    for (i, name) in names.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(lo - pad, i as f64));
        root.draw(&Text::new(
            name.clone(),
            (px - 10, py),
            anchored(LABEL, HPos::Right, VPos::Center),
        ))?;
    }
    let low_color = RGBColor(70, 130, 200);
    let high_color = RGBColor(230, 120, 40);
    let bar = |i: usize, x: f64, color: RGBColor| {
        let y = i as f64;
        Rectangle::new([(base, y - 0.3), (x, y + 0.3)], color.filled())
    };
    chart
        .draw_series(
            bars.iter()
                .enumerate()
                .map(|(i, b)| bar(i, b.low_saving_pct, low_color)),
        )?
        .label("assumption at its low value")
        .legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 14, y + 7)], low_color.filled()));
    chart
        .draw_series(
            bars.iter()
                .enumerate()
                .map(|(i, b)| bar(i, b.high_saving_pct, high_color)),
        )?
        .label("assumption at its high value")
        .legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 14, y + 7)], high_color.filled()));
    let end_label = |i: usize, x: f64, value: &str| {
        let (h, dx) = if x < base {
            (HPos::Right, -8)
        } else {
            (HPos::Left, 8)
        };
        EmptyElement::at((x, i as f64))
            + Text::new(
                format!("{value} → {x:.1}%"),
                (dx, 0),
                anchored(LABEL - 2, h, VPos::Center),
            )
    };
    chart.draw_series(bars.iter().enumerate().flat_map(|(i, b)| {
        [
            end_label(i, b.low_saving_pct, &b.low_value),
            end_label(i, b.high_saving_pct, &b.high_value),
        ]
    }))?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(base, -0.5), (base, n as f64 - 0.5)],
            BLACK.stroke_width(2),
        )))?
        .label(format!("baseline {base:.1}%"))
        .legend(|(x, y)| {
            PathElement::new(vec![(x + 7, y - 8), (x + 7, y + 8)], BLACK.stroke_width(2))
        });
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(font(LABEL))
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::data::RunReport;

    /// Parses `svg` and returns all its text content.
    fn svg_text(svg: &str) -> String {
        let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("bad SVG: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        doc.descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn check_png(png: &[u8], size: (u32, u32)) {
        let img = image::load_from_memory_with_format(png, image::ImageFormat::Png)
            .expect("PNG decodes")
            .to_rgb8();
        assert_eq!(img.dimensions(), size);
        let first = *img.get_pixel(0, 0);
        assert_eq!(first, image::Rgb([255, 255, 255]), "white background");
        let distinct: std::collections::BTreeSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
        assert!(distinct.len() > 20, "only {} colours", distinct.len());
    }

    fn check(chart: Chart<'_>, must_contain: &[&str]) {
        let svg = chart.svg().unwrap();
        let text = svg_text(&svg);
        for s in must_contain {
            assert!(text.contains(s), "`{s}` missing from:\n{text}");
        }
        check_png(&chart.png().unwrap(), chart.size());
    }

    #[test]
    fn cost_chart() {
        let r = RunReport::example();
        check(
            cost_by_layout(&r.layouts),
            &[
                "USD per month",
                "distributed",
                "monolith",
                "cloned-monolith",
                "lambda",
                "step_functions",
                "s3",
                "ec2",
                "fargate",
                "Monthly cost by layout",
            ],
        );
    }

    #[test]
    fn latency_chart() {
        let r = RunReport::example();
        check(
            latency_cdf(&r.layouts),
            &[
                "latency per frame (ms, log scale)",
                "fraction of frames",
                "distributed",
                "monolith",
            ],
        );
    }

    #[test]
    fn timeline_chart() {
        let r = RunReport::example();
        check(
            timeline(&r.layouts[0]),
            &[
                "Timeline — distributed",
                "Active streams",
                "Lambda concurrency",
                "concurrency quota",
                "Throttles",
                "time (min)",
                "throttles per second",
            ],
        );
        // Only the series a layout has: no Lambda panel for a monolith, no instances
        // panel for a serverless layout.
        let distributed = svg_text(&timeline(&r.layouts[0]).svg().unwrap());
        assert!(!distributed.contains("Instances"), "{distributed}");
        let monolith = svg_text(&timeline(&r.layouts[1]).svg().unwrap());
        assert!(monolith.contains("Instances"), "{monolith}");
        assert!(!monolith.contains("Lambda concurrency"), "{monolith}");
        assert!(!monolith.contains("Throttles"), "{monolith}");
        check_png(
            &timeline(&r.layouts[1]).png().unwrap(),
            timeline(&r.layouts[1]).size(),
        );
        assert_eq!(timeline(&r.layouts[1]).size(), (WIDTH, HEIGHT * 3 / 5));
        // The stream count where throttling starts is drawn when the load nears it.
        let mut l = r.layouts[0].clone();
        l.throttling_starts_at_streams = Some(90);
        let text = svg_text(&timeline(&l).svg().unwrap());
        assert!(text.contains("throttled from 90 streams"), "{text}");
    }

    #[test]
    fn sweep_chart() {
        let r = RunReport::example();
        check(
            sweep(r.sweep.as_ref().unwrap()),
            &[
                "USD per month (log scale)",
                "concurrent streams",
                "distributed",
                "monolith",
                "crossover",
                "distributed = monolith at 7.8",
            ],
        );
    }

    #[test]
    fn tornado_chart() {
        let r = RunReport::example();
        check(
            tornado(r.sensitivity.as_ref().unwrap()),
            &[
                "workload.streams",
                "workload.fps",
                "layouts.distributed.memory_mb",
                "saving (%)",
                "baseline 90.0%",
                "10 → 35.0%",
            ],
        );
    }

    #[test]
    fn empty_inputs_draw_a_message() {
        let mut r = RunReport::example();
        for l in &mut r.layouts {
            l.latency_cdf.clear();
            l.timeline.clear();
        }
        check(latency_cdf(&r.layouts), &["no latencies recorded"]);
        check(timeline(&r.layouts[0]), &["no timeline recorded"]);
        check(cost_by_layout(&[]), &["no layouts to show"]);
        check(cost_by_layout(&r.layouts[..1]), &["distributed"]);
        let mut s = r.sensitivity.clone().unwrap();
        s.bars.truncate(1);
        check(tornado(&s), &["workload.streams"]);
    }

    #[test]
    fn long_series_are_thinned_keeping_peaks() {
        let mut pts: Vec<TimelinePoint> = (0..86_400)
            .map(|i| TimelinePoint {
                time_s: i as f64,
                active_streams: 10.0,
                ..Default::default()
            })
            .collect();
        pts[40_000].throttles_per_s = 99.0;
        let thin = thin_timeline(&pts);
        assert!(thin.len() <= MAX_POINTS, "{}", thin.len());
        assert_eq!(thin[0].time_s, 0.0);
        assert_eq!(
            thin.iter().map(|p| p.throttles_per_s).fold(0.0, f64::max),
            99.0
        );
        let curve: Vec<(f64, f64)> = (0..10_001)
            .map(|i| (i as f64, i as f64 / 10_000.0))
            .collect();
        let c = thin_curve(&curve);
        assert!(c.len() <= MAX_POINTS + 1);
        assert_eq!(c.last(), Some(&(10_000.0, 1.0)));
        assert_eq!(thin_curve(&curve[..5]), &curve[..5]);
        // A day at one point a second still draws, and stays small.
        let mut r = RunReport::example();
        r.layouts[0].timeline = pts;
        let svg = timeline(&r.layouts[0]).svg().unwrap();
        assert!(svg.len() < 1_000_000, "{} bytes", svg.len());
        assert!(svg_text(&svg).contains("time (h)"));
    }

    #[test]
    fn odd_numbers_do_not_break_charts() {
        let mut r = RunReport::example();
        for l in &mut r.layouts {
            l.monthly_usd = 0.0;
            for i in &mut l.bill.items {
                i.usd = 0.0;
            }
            l.bill.total_usd = 0.0;
            l.latency_cdf.push((f64::NAN, 0.5));
            l.latency_cdf.push((f64::INFINITY, 1.0));
            l.timeline[3].throttles_per_s = f64::NAN;
        }
        let s = r.sweep.as_mut().unwrap();
        s.series[0].points.push((f64::NAN, 1.0));
        s.series[1].points.push((-5.0, 0.0));
        let t = r.sensitivity.as_mut().unwrap();
        t.bars[0].low_saving_pct = f64::NAN;
        for chart in [
            cost_by_layout(&r.layouts),
            latency_cdf(&r.layouts),
            timeline(&r.layouts[0]),
            sweep(r.sweep.as_ref().unwrap()),
            tornado(r.sensitivity.as_ref().unwrap()),
        ] {
            svg_text(&chart.svg().unwrap());
            check_png(&chart.png().unwrap(), chart.size());
        }
    }

    #[test]
    fn numbers_on_axes() {
        assert_eq!(format_number(1000.0), "1,000");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(0.05), "0.050");
        assert_eq!(format_number(0.0), "0");
    }
}
