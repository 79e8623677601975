//! Sweeps: `--vary` specs, applying a value to a scenario document by dotted path,
//! the cartesian grid of several specs, parallel runs that return results in grid
//! order, and the search for the point where two layouts cost the same.
//!
//! Generic on purpose: nothing here knows a layout; the caller turns a grid point into
//! a scenario and a scenario into a number.

use std::io::IsTerminal;
use std::ops::Range;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use toml::Value;

use crate::error::{nearest, Error, InputError, Result};

/// Pseudo-file named in errors about a `--vary` flag.
const FLAG: &str = "--vary";

/// Most points one spec may ask for.
pub const MAX_POINTS: usize = 10_000;

/// Most points a grid may have.
pub const MAX_GRID: usize = 10_000;

/// One `--vary PATH=VALUES` flag, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct VarySpec {
    /// Dotted path into the scenario, e.g. `workload.streams` or
    /// `layouts.monolith.instance_type`.
    pub path: String,
    /// The values, in the order given (ranges ascending).
    pub values: Vec<Value>,
}

fn err(spec: &str, span: Range<usize>, message: impl Into<String>) -> InputError {
    InputError::at_span(FLAG, spec, span, message)
}

const SYNTAX: &str = "expected PATH=LO..HI:log:N, PATH=LO..HI:lin:N or PATH=A,B,C";

impl VarySpec {
    /// Parses `path=lo..hi:log:n`, `path=lo..hi:lin:n` (n points, ends included;
    /// integers rounded and deduplicated when both ends are integers) or
    /// `path=a,b,c` (each an integer, a number, true/false or a string).
    pub fn parse(spec: &str) -> Result<VarySpec, InputError> {
        let Some(eq) = spec.find('=') else {
            return Err(err(
                spec,
                spec.len()..spec.len(),
                format!("missing `=`: {SYNTAX}"),
            ));
        };
        let path = spec[..eq].trim();
        let path_start = spec[..eq].len() - spec[..eq].trim_start().len();
        if path.is_empty() {
            return Err(err(
                spec,
                0..eq,
                format!("missing path before `=`: {SYNTAX}"),
            ));
        }
        let mut offset = path_start;
        for seg in path.split('.') {
            let ok = !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !ok {
                return Err(err(
                    spec,
                    offset..offset + seg.len(),
                    format!(
                        "`{seg}` is not a key: path segments are letters, digits, `_` and `-`, separated by `.`"
                    ),
                ));
            }
            offset += seg.len() + 1;
        }
        let rest = &spec[eq + 1..];
        let base = eq + 1;
        if rest.trim().is_empty() {
            return Err(err(
                spec,
                base..spec.len(),
                format!("no values after `=`: {SYNTAX}"),
            ));
        }
        let values = if let Some(dots) = rest.find("..") {
            parse_range(spec, base, rest, dots)?
        } else {
            parse_list(spec, base, rest)?
        };
        Ok(VarySpec {
            path: path.to_string(),
            values,
        })
    }
}

fn parse_list(spec: &str, base: usize, rest: &str) -> Result<Vec<Value>, InputError> {
    let mut values = Vec::new();
    let mut at = base;
    for item in rest.split(',') {
        let t = item.trim();
        let start = at + (item.len() - item.trim_start().len());
        if t.is_empty() {
            return Err(err(spec, start..start, "empty value in the list"));
        }
        values.push(scalar(t));
        at += item.len() + 1;
    }
    Ok(values)
}

/// A list item as the TOML value it most likely means.
fn scalar(t: &str) -> Value {
    if let Ok(i) = t.parse::<i64>() {
        Value::Integer(i)
    } else if let Ok(f) = t.parse::<f64>() {
        if f.is_finite() && t.chars().any(|c| c.is_ascii_digit()) {
            Value::Float(f)
        } else {
            Value::String(t.to_string())
        }
    } else if t == "true" || t == "false" {
        Value::Boolean(t == "true")
    } else {
        Value::String(t.trim_matches('"').to_string())
    }
}

fn parse_range(spec: &str, base: usize, rest: &str, dots: usize) -> Result<Vec<Value>, InputError> {
    let lo_text = &rest[..dots];
    let after = &rest[dots + 2..];
    let parts: Vec<&str> = after.split(':').collect();
    let hi_text = parts[0];
    let lo_span = base..base + dots;
    let hi_start = base + dots + 2;
    let hi_span = hi_start..hi_start + hi_text.len();
    if parts.len() != 3 {
        return Err(err(
            spec,
            hi_span.end..spec.len(),
            format!(
                "a range needs a scale and a count, as in 1..100:log:10 or 0..1:lin:5: {SYNTAX}"
            ),
        ));
    }
    let number = |t: &str, span: Range<usize>| -> Result<f64, InputError> {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| err(spec, span, format!("`{}` is not a number", t.trim())))
    };
    let lo = number(lo_text, lo_span.clone())?;
    let hi = number(hi_text, hi_span.clone())?;
    let scale_start = hi_span.end + 1;
    let scale = parts[1].trim();
    let scale_span = scale_start..scale_start + parts[1].len();
    let n_start = scale_span.end + 1;
    let n_span = n_start..n_start + parts[2].len();
    let n: usize = parts[2].trim().parse().map_err(|_| {
        err(
            spec,
            n_span.clone(),
            format!("`{}` is not a count of points", parts[2].trim()),
        )
    })?;
    if !(2..=MAX_POINTS).contains(&n) {
        return Err(err(
            spec,
            n_span,
            format!("the count must be 2 to {MAX_POINTS}, not {n}"),
        ));
    }
    if lo >= hi {
        return Err(err(
            spec,
            lo_span.start..hi_span.end,
            format!("the range must go up: {lo} is not below {hi}"),
        ));
    }
    let is_int = |t: &str| t.trim().parse::<i64>().is_ok();
    let integers = is_int(lo_text) && is_int(hi_text);
    let xs = match scale {
        "log" => {
            if lo <= 0.0 {
                return Err(err(spec, lo_span, "a log range must start above 0"));
            }
            log_space(lo, hi, n)
        }
        "lin" => lin_space(lo, hi, n),
        other => {
            return Err(err(
                spec,
                scale_span,
                format!("unknown scale `{other}`: expected `log` or `lin`"),
            ))
        }
    };
    Ok(if integers {
        let mut ints: Vec<i64> = xs.iter().map(|x| x.round() as i64).collect();
        ints.dedup();
        ints.into_iter().map(Value::Integer).collect()
    } else {
        xs.into_iter().map(Value::Float).collect()
    })
}

/// `n` points from `lo` to `hi`, evenly spaced in log space; the ends are exact.
pub fn log_space(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (a, b) = (lo.ln(), hi.ln());
    (0..n)
        .map(|i| match i {
            0 => lo,
            i if i + 1 == n => hi,
            i => (a + (b - a) * i as f64 / (n - 1) as f64).exp(),
        })
        .collect()
}

/// `n` points from `lo` to `hi`, evenly spaced; the ends are exact.
pub fn lin_space(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| match i {
            0 => lo,
            i if i + 1 == n => hi,
            i => lo + (hi - lo) * i as f64 / (n - 1) as f64,
        })
        .collect()
}

/// A value as a person reads it: strings without quotes.
pub fn value_label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Sets the value at dotted `path` in `doc`. A segment after an array of tables
/// selects the element whose `name` is that segment (or, failing that, the element at
/// that index): `layouts.monolith.instance_type` with `[[layouts]] name =
/// "monolith"`. The key must exist; an unknown one is an error listing the valid keys
/// at that level. An integer given for a float is converted, and a whole float for an
/// integer.
pub fn apply(doc: &mut toml::Table, path: &str, value: Value) -> Result<(), InputError> {
    let segs: Vec<&str> = path.split('.').collect();
    let mut spans = Vec::with_capacity(segs.len());
    let mut at = 0;
    for s in &segs {
        spans.push(at..at + s.len());
        at += s.len() + 1;
    }
    let fail = |i: usize, msg: String| InputError::at_span(FLAG, path, spans[i].clone(), msg);
    let mut table = doc;
    let mut i = 0;
    loop {
        let seg = segs[i];
        let prefix = if i == 0 {
            "the scenario".to_string()
        } else {
            format!("`{}`", segs[..i].join("."))
        };
        if !table.contains_key(seg) {
            let keys: Vec<&str> = table.keys().map(String::as_str).collect();
            let mut msg = format!("unknown key `{seg}` in {prefix}");
            if let Some(best) = nearest(seg, &keys) {
                msg += &format!("; did you mean `{best}`?");
            }
            msg += &format!(" Valid keys: {}", list(&keys));
            return Err(fail(i, msg));
        }
        let last = i + 1 == segs.len();
        let slot = table.get_mut(seg).expect("checked above");
        if last {
            *slot = coerce(slot, value);
            return Ok(());
        }
        match slot {
            Value::Table(t) => {
                table = t;
                i += 1;
            }
            Value::Array(items) if items.iter().all(Value::is_table) => {
                let key = segs[i + 1];
                let names: Vec<String> = items
                    .iter()
                    .filter_map(|t| t.get("name").and_then(Value::as_str).map(String::from))
                    .collect();
                let pos = items
                    .iter()
                    .position(|t| t.get("name").and_then(Value::as_str) == Some(key))
                    .or_else(|| key.parse::<usize>().ok().filter(|k| *k < items.len()));
                let Some(pos) = pos else {
                    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
                    let mut msg =
                        format!("no element of `{}` is named `{key}`", segs[..=i].join("."));
                    if let Some(best) = nearest(key, &name_refs) {
                        msg += &format!("; did you mean `{best}`?");
                    }
                    msg += &format!(" Names: {}", list(&name_refs));
                    return Err(fail(i + 1, msg));
                };
                if i + 2 == segs.len() {
                    return Err(fail(
                        i + 1,
                        format!(
                            "`{}` is a whole table: name one of its keys after it",
                            segs[..=i + 1].join(".")
                        ),
                    ));
                }
                table = items[pos].as_table_mut().expect("all tables");
                i += 2;
            }
            _ => {
                return Err(fail(
                    i,
                    format!(
                        "`{}` is a value, not a table: nothing is under it",
                        segs[..=i].join(".")
                    ),
                ))
            }
        }
    }
}

/// The value at dotted `path` in `doc`, selecting array-of-tables elements by `name`
/// (or index) as [`apply`] does; `None` when the path does not exist.
pub fn get<'a>(doc: &'a toml::Table, path: &str) -> Option<&'a Value> {
    let segs: Vec<&str> = path.split('.').collect();
    let mut table = doc;
    let mut i = 0;
    loop {
        let slot = table.get(segs[i])?;
        if i + 1 == segs.len() {
            return Some(slot);
        }
        match slot {
            Value::Table(t) => {
                table = t;
                i += 1;
            }
            Value::Array(items) => {
                let key = segs[i + 1];
                let item = items
                    .iter()
                    .find(|t| t.get("name").and_then(Value::as_str) == Some(key))
                    .or_else(|| key.parse::<usize>().ok().and_then(|k| items.get(k)))?;
                if i + 2 == segs.len() {
                    return Some(item);
                }
                table = item.as_table()?;
                i += 2;
            }
            _ => return None,
        }
    }
}

fn list(keys: &[&str]) -> String {
    if keys.is_empty() {
        return "(none)".into();
    }
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `new`, converted to the numeric type of `old` when that loses nothing.
fn coerce(old: &Value, new: Value) -> Value {
    match (old, new) {
        (Value::Float(_), Value::Integer(i)) => Value::Float(i as f64),
        (Value::Integer(_), Value::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
            Value::Integer(f as i64)
        }
        (_, new) => new,
    }
}

/// One point of a grid: a value for each varied path, in the order of the specs.
#[derive(Debug, Clone, PartialEq)]
pub struct GridPoint {
    pub assignments: Vec<(String, Value)>,
}

impl GridPoint {
    /// Applies every assignment to `doc`.
    pub fn apply_to(&self, doc: &mut toml::Table) -> Result<(), InputError> {
        for (path, value) in &self.assignments {
            apply(doc, path, value.clone())?;
        }
        Ok(())
    }

    /// `workload.streams=100, layouts.monolith.instance_type=c5.2xlarge`.
    pub fn label(&self) -> String {
        self.assignments
            .iter()
            .map(|(p, v)| format!("{p}={}", value_label(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The value given to `path`, if this point varies it.
    pub fn get(&self, path: &str) -> Option<&Value> {
        self.assignments
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, v)| v)
    }
}

/// The cartesian product of the specs, the first spec varying slowest (the last
/// fastest), so the order is fixed by the order of the flags.
pub fn grid(specs: &[VarySpec]) -> Result<Vec<GridPoint>, InputError> {
    for (i, s) in specs.iter().enumerate() {
        if specs[..i].iter().any(|o| o.path == s.path) {
            return Err(InputError::new(
                FLAG,
                format!(
                    "`{}` is varied twice: give its values in one --vary",
                    s.path
                ),
            ));
        }
    }
    let total = specs
        .iter()
        .try_fold(1usize, |acc, s| acc.checked_mul(s.values.len()))
        .unwrap_or(usize::MAX);
    if total > MAX_GRID {
        return Err(InputError::new(
            FLAG,
            format!(
                "the grid has {total} points, more than the {MAX_GRID} allowed: use fewer values"
            ),
        ));
    }
    let mut points = vec![GridPoint {
        assignments: Vec::new(),
    }];
    for s in specs {
        points = points
            .into_iter()
            .flat_map(|p| {
                s.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.assignments.push((s.path.clone(), v.clone()));
                    q
                })
            })
            .collect();
    }
    Ok(points)
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
pub fn progress_bar(len: usize, message: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len as u64), target);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message.to_string());
    bar
}

/// A progress bar of a fraction done (0..=1000 per mille), with its ETA, on stderr
/// and hidden when stderr is not a terminal.
pub fn fraction_bar(message: &str) -> ProgressBar {
    let bar = progress_bar(1000, message);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {percent}% ({eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Runs `f` on every point in parallel (rayon's global pool) and returns the results
/// in the order of `points`, whatever the number of threads. Shows a progress bar
/// when stderr is a terminal.
pub fn run_grid<P, R, F>(points: &[P], f: F) -> Vec<R>
where
    P: Sync,
    R: Send,
    F: Fn(&P) -> R + Sync + Send,
{
    run_units(points, "sweep", f)
}

/// [`run_grid`] with the progress bar's label: any list of independent work units
/// (grid points, replications, a shard's units).
pub fn run_units<P, R, F>(points: &[P], label: &str, f: F) -> Vec<R>
where
    P: Sync,
    R: Send,
    F: Fn(&P) -> R + Sync + Send,
{
    let bar = progress_bar(points.len(), label);
    let out = points
        .par_iter()
        .map(|p| {
            let r = f(p);
            bar.inc(1);
            r
        })
        .collect();
    bar.finish_and_clear();
    out
}

/// [`run_grid`] on a pool of `threads` threads.
pub fn run_grid_threads<P, R, F>(points: &[P], threads: usize, f: F) -> Result<Vec<R>>
where
    P: Sync,
    R: Send,
    F: Fn(&P) -> R + Sync + Send,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Other(format!("starting {threads} threads: {e}")))?;
    Ok(pool.install(|| run_grid(points, f)))
}

/// Points scanned between the ends before bisecting.
pub const SCAN_POINTS: usize = 17;

/// Where `f` (a cost difference) changes sign between `lo` and `hi`: scans
/// [`SCAN_POINTS`] points spaced evenly in log space (linearly if `lo <= 0`), then
/// bisects the first bracket until its ends are within `rel_tol` of each other (0.01
/// for 1%). `None` if the sign never changes.
pub fn crossover(lo: f64, hi: f64, f: impl FnMut(f64) -> f64, rel_tol: f64) -> Option<f64> {
    let xs = if lo > 0.0 {
        log_space(lo, hi, SCAN_POINTS)
    } else {
        lin_space(lo, hi, SCAN_POINTS)
    };
    crossovers_on(&xs, f, rel_tol, 1).into_iter().next()
}

/// Every sign change of `f` over the ascending grid `xs` (at most `max`), each
/// refined by bisection (in log space where both ends are positive) to `rel_tol`.
pub fn crossovers_on(
    xs: &[f64],
    mut f: impl FnMut(f64) -> f64,
    rel_tol: f64,
    max: usize,
) -> Vec<f64> {
    let rel_tol = if rel_tol > 0.0 { rel_tol } else { 0.01 };
    let mut found = Vec::new();
    let mut prev: Option<(f64, f64)> = None;
    for &x in xs {
        if found.len() >= max {
            break;
        }
        let y = f(x);
        if !y.is_finite() {
            prev = None;
            continue;
        }
        if y == 0.0 {
            found.push(x);
            prev = None;
            continue;
        }
        if let Some((px, py)) = prev {
            if py.signum() != y.signum() {
                found.push(bisect(px, py, x, &mut f, rel_tol));
            }
        }
        prev = Some((x, y));
    }
    found
}

fn bisect(
    mut a: f64,
    mut fa: f64,
    mut b: f64,
    f: &mut impl FnMut(f64) -> f64,
    rel_tol: f64,
) -> f64 {
    let log = a > 0.0 && b > 0.0;
    let mid = |a: f64, b: f64| if log { (a * b).sqrt() } else { (a + b) / 2.0 };
    for _ in 0..200 {
        let close = if log {
            b / a - 1.0 <= rel_tol
        } else {
            (b - a).abs() <= rel_tol * a.abs().max(b.abs()).max(f64::MIN_POSITIVE)
        };
        if close {
            break;
        }
        let m = mid(a, b);
        let fm = f(m);
        if fm == 0.0 {
            return m;
        }
        if !fm.is_finite() || fm.signum() == fa.signum() {
            a = m;
            fa = if fm.is_finite() { fm } else { fa };
        } else {
            b = m;
        }
    }
    mid(a, b)
}

/// Where two sampled curves `a` and `b` over the ascending grid `xs` cross, found
/// without new evaluations: the crossing of the straight segments between samples,
/// in log–log space where all values are positive (linear otherwise). Returns
/// (x, y) pairs in ascending x. For an exact answer, bisect with [`crossover`].
pub fn crossings(xs: &[f64], a: &[f64], b: &[f64]) -> Vec<(f64, f64)> {
    let n = xs.len().min(a.len()).min(b.len());
    let mut out = Vec::new();
    for i in 0..n {
        let d = a[i] - b[i];
        if !d.is_finite() {
            continue;
        }
        if d == 0.0 {
            out.push((xs[i], a[i]));
            continue;
        }
        if i + 1 >= n {
            break;
        }
        let d1 = a[i + 1] - b[i + 1];
        if !d1.is_finite() || d1 == 0.0 || d.signum() == d1.signum() {
            continue;
        }
        let positive = [xs[i], xs[i + 1], a[i], a[i + 1], b[i], b[i + 1]]
            .iter()
            .all(|v| *v > 0.0);
        let (t, x) = if positive {
            // Straight lines in log–log space: solve for the log-x where they meet.
            let da = a[i].ln() - b[i].ln();
            let da1 = a[i + 1].ln() - b[i + 1].ln();
            let t = da / (da - da1);
            (t, (xs[i].ln() + t * (xs[i + 1].ln() - xs[i].ln())).exp())
        } else {
            let t = d / (d - d1);
            (t, xs[i] + t * (xs[i + 1] - xs[i]))
        };
        let y = if positive {
            (a[i].ln() + t * (a[i + 1].ln() - a[i].ln())).exp()
        } else {
            a[i] + t * (a[i + 1] - a[i])
        };
        out.push((x, y));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &[Value]) -> Vec<i64> {
        v.iter().map(|x| x.as_integer().unwrap()).collect()
    }

    #[test]
    fn log_range_of_integers_is_deduplicated() {
        let s = VarySpec::parse("workload.streams=1..10000:log:25").unwrap();
        assert_eq!(s.path, "workload.streams");
        let v = ints(&s.values);
        assert_eq!(v.first(), Some(&1));
        assert_eq!(v.last(), Some(&10000));
        assert!(v.windows(2).all(|w| w[0] < w[1]), "{v:?}");
        // 1, 1.47, 2.15, 3.16, ... rounds to 1, 1, 2, 3: the duplicate 1 is dropped.
        assert_eq!(&v[..4], &[1, 2, 3, 5]);
        assert_eq!(v.len(), 24);
        assert!(v.contains(&100) && v.contains(&1000));
    }

    #[test]
    fn linear_range_and_floats() {
        let s = VarySpec::parse("x=1..100:lin:10").unwrap();
        assert_eq!(ints(&s.values), [1, 12, 23, 34, 45, 56, 67, 78, 89, 100]);
        let s = VarySpec::parse("workload.fps=0.5..2:lin:4").unwrap();
        let v: Vec<f64> = s.values.iter().map(|x| x.as_float().unwrap()).collect();
        assert_eq!(v, [0.5, 1.0, 1.5, 2.0]);
        let s = VarySpec::parse("p=0.1..10.0:log:3").unwrap();
        let v: Vec<f64> = s.values.iter().map(|x| x.as_float().unwrap()).collect();
        assert_eq!(v[0], 0.1);
        assert!((v[1] - 1.0).abs() < 1e-12);
        assert_eq!(v[2], 10.0);
    }

    #[test]
    fn lists() {
        let s = VarySpec::parse("layouts.monolith.instance_type=c5.2xlarge,c6g.2xlarge").unwrap();
        assert_eq!(s.path, "layouts.monolith.instance_type");
        assert_eq!(
            s.values,
            [
                Value::String("c5.2xlarge".into()),
                Value::String("c6g.2xlarge".into())
            ]
        );
        let s = VarySpec::parse("a=1, 2.5,true,x").unwrap();
        assert_eq!(
            s.values,
            [
                Value::Integer(1),
                Value::Float(2.5),
                Value::Boolean(true),
                Value::String("x".into())
            ]
        );
    }

    fn parse_err(spec: &str) -> InputError {
        VarySpec::parse(spec).unwrap_err()
    }

    #[test]
    fn errors_name_the_flag_and_column() {
        let e = parse_err("workload.streams");
        assert_eq!(e.file, "--vary");
        assert!(e.message.contains("missing `=`"), "{e}");

        let e = parse_err("workload.streams=1..x:log:5");
        assert_eq!((e.line, e.column), (Some(1), Some(21)));
        assert!(e.message.contains("`x` is not a number"), "{e}");

        let e = parse_err("s=1..100:cubic:5");
        assert_eq!(e.column, Some(10));
        assert!(e.message.contains("unknown scale `cubic`"), "{e}");

        let e = parse_err("s=0..100:log:5");
        assert!(e.message.contains("above 0"), "{e}");
        let e = parse_err("s=1..100:log:1");
        assert_eq!(e.column, Some(14));
        let e = parse_err("s=1..100");
        assert!(e.message.contains("scale and a count"), "{e}");
        let e = parse_err("s=100..1:lin:3");
        assert!(e.message.contains("must go up"), "{e}");
        let e = parse_err("s=a,,b");
        assert_eq!(e.column, Some(5));
        let e = parse_err("a..b=1");
        assert_eq!(e.column, Some(3));
        let e = parse_err("=1,2");
        assert!(e.message.contains("missing path"), "{e}");
        let e = parse_err("x=");
        assert!(e.message.contains("no values"), "{e}");
        assert!(e.to_string().starts_with("--vary:1:3: "), "{e}");
    }

    const SCENARIO: &str = r#"
name = "prime"
[workload]
streams = 100
fps = 1.0
[[layouts]]
name = "distributed"
memory_mb = 1024
[[layouts]]
name = "monolith"
instance_type = "c5.2xlarge"
"#;

    fn doc() -> toml::Table {
        SCENARIO.parse().unwrap()
    }

    #[test]
    fn apply_by_path_and_by_name() {
        let mut d = doc();
        apply(&mut d, "workload.streams", Value::Integer(500)).unwrap();
        apply(&mut d, "workload.fps", Value::Integer(2)).unwrap();
        apply(
            &mut d,
            "layouts.monolith.instance_type",
            Value::String("c6g.2xlarge".into()),
        )
        .unwrap();
        apply(&mut d, "layouts.0.memory_mb", Value::Float(2048.0)).unwrap();
        assert_eq!(d["workload"]["streams"].as_integer(), Some(500));
        assert_eq!(d["workload"]["fps"].as_float(), Some(2.0));
        assert_eq!(
            d["layouts"][1]["instance_type"].as_str(),
            Some("c6g.2xlarge")
        );
        assert_eq!(d["layouts"][0]["memory_mb"].as_integer(), Some(2048));
        // The document still serializes and parses back.
        let text = toml::to_string(&d).unwrap();
        let back: toml::Table = text.parse().unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn unknown_paths_list_the_valid_keys() {
        let mut d = doc();
        let e = apply(&mut d, "workload.stream", Value::Integer(1)).unwrap_err();
        assert_eq!(e.file, "--vary");
        assert_eq!(e.column, Some(10));
        assert!(
            e.message.contains("unknown key `stream` in `workload`"),
            "{e}"
        );
        assert!(e.message.contains("did you mean `streams`?"), "{e}");
        assert!(e.message.contains("`fps`, `streams`"), "{e}");

        let e = apply(&mut d, "layouts.monolit.instance_type", Value::Integer(1)).unwrap_err();
        assert!(
            e.message
                .contains("no element of `layouts` is named `monolit`"),
            "{e}"
        );
        assert!(e.message.contains("`distributed`, `monolith`"), "{e}");

        let e = apply(&mut d, "workload.streams.x", Value::Integer(1)).unwrap_err();
        assert!(e.message.contains("is a value, not a table"), "{e}");
        let e = apply(&mut d, "layouts.monolith", Value::Integer(1)).unwrap_err();
        assert!(e.message.contains("whole table"), "{e}");
        let e = apply(&mut d, "nope", Value::Integer(1)).unwrap_err();
        assert!(e.message.contains("in the scenario"), "{e}");
        assert_eq!(d, doc(), "a failed apply changes nothing");
    }

    #[test]
    fn grid_is_cartesian_first_spec_slowest() {
        let a = VarySpec::parse("a=1,2").unwrap();
        let b = VarySpec::parse("b=x,y,z").unwrap();
        let g = grid(&[a.clone(), b.clone()]).unwrap();
        let labels: Vec<String> = g.iter().map(GridPoint::label).collect();
        assert_eq!(
            labels,
            ["a=1, b=x", "a=1, b=y", "a=1, b=z", "a=2, b=x", "a=2, b=y", "a=2, b=z"]
        );
        assert_eq!(g[4].get("b"), Some(&Value::String("y".into())));
        assert_eq!(grid(&[]).unwrap().len(), 1);
        let e = grid(&[a.clone(), a]).unwrap_err();
        assert!(e.message.contains("varied twice"), "{e}");
        let big = VarySpec::parse("c=1..10000:lin:10000").unwrap();
        assert!(grid(&[big.clone(), big.clone(), b]).is_err());
    }

    #[test]
    fn grid_points_apply_to_a_document() {
        let g = grid(&[
            VarySpec::parse("workload.streams=10,20").unwrap(),
            VarySpec::parse("layouts.monolith.instance_type=m5.xlarge").unwrap(),
        ])
        .unwrap();
        let mut d = doc();
        g[1].apply_to(&mut d).unwrap();
        assert_eq!(d["workload"]["streams"].as_integer(), Some(20));
        assert_eq!(d["layouts"][1]["instance_type"].as_str(), Some("m5.xlarge"));
    }

    /// Work whose length depends on the input, so threads finish out of order.
    fn busy(x: &u64) -> u64 {
        let mut h = *x;
        for _ in 0..(1000 * (50 - x % 50)) {
            h = h
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
        }
        h
    }

    #[test]
    fn run_grid_keeps_grid_order_for_any_thread_count() {
        let points: Vec<u64> = (0..200).collect();
        let want: Vec<u64> = points.iter().map(busy).collect();
        for threads in [1, 2, 4, 7] {
            assert_eq!(
                run_grid_threads(&points, threads, busy).unwrap(),
                want,
                "{threads} threads"
            );
        }
        assert_eq!(run_grid(&points, busy), want);
    }

    #[test]
    fn progress_bar_hides_off_terminal() {
        let bar = progress_bar(10, "x");
        assert_eq!(bar.is_hidden(), !std::io::stderr().is_terminal());
    }

    #[test]
    fn crossover_of_two_cost_lines() {
        // Serverless: 3.2 $/stream; server: 25 $ + 0.25 $/stream. Equal at 25/2.95.
        let want = 25.0 / 2.95;
        let mut calls = 0;
        let x = crossover(
            1.0,
            10_000.0,
            |s| {
                calls += 1;
                3.2 * s - (25.0 + 0.25 * s)
            },
            0.01,
        )
        .unwrap();
        assert!((x / want - 1.0).abs() <= 0.01, "{x} vs {want}");
        assert!(calls < SCAN_POINTS + 20, "{calls} evaluations");
        // Tighter tolerance, closer answer.
        let x = crossover(1.0, 10_000.0, |s| 3.2 * s - (25.0 + 0.25 * s), 1e-6).unwrap();
        assert!((x / want - 1.0).abs() <= 1e-6, "{x}");
    }

    #[test]
    fn crossings_of_sampled_curves() {
        let xs = [1.0, 10.0, 100.0, 1000.0];
        // Power laws are straight in log-log: y = x and y = 10 * sqrt(x) meet at 100.
        let a: Vec<f64> = xs.to_vec();
        let b: Vec<f64> = xs.iter().map(|x: &f64| 10.0 * x.sqrt()).collect();
        let c = crossings(&xs, &a, &b);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0], (100.0, 100.0));
        let xs = [1.0, 2.0, 3.0];
        let c = crossings(&xs, &[1.0, 2.0, 3.0], &[2.5, 1.5, 0.5]);
        assert_eq!(c.len(), 1);
        assert!(
            (c[0].0 - 1.75).abs() < 0.1 && c[0].1 > 1.0 && c[0].1 < 2.5,
            "{c:?}"
        );
        // Not all positive: linear interpolation.
        let c = crossings(&[0.0, 1.0, 2.0], &[-1.0, 0.5, 2.0], &[0.0, 0.0, 0.0]);
        assert_eq!(c.len(), 1);
        assert!((c[0].0 - 2.0 / 3.0).abs() < 1e-12, "{c:?}");
        assert!(crossings(&xs, &[1.0, 1.0, 1.0], &[2.0, 2.0, 2.0]).is_empty());
    }

    #[test]
    fn no_crossover_and_several() {
        assert_eq!(crossover(1.0, 100.0, |s| s + 1.0, 0.01), None);
        // Linear scan when the range starts at 0.
        let x = crossover(0.0, 10.0, |s| s - 3.0, 0.001).unwrap();
        assert!((x - 3.0).abs() < 0.01, "{x}");
        // Two crossings: (s - 2)(s - 50).
        let xs = log_space(1.0, 1000.0, 17);
        let found = crossovers_on(&xs, |s| (s - 2.0) * (s - 50.0), 0.01, 10);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            (found[0] / 2.0 - 1.0).abs() <= 0.01 && (found[1] / 50.0 - 1.0).abs() <= 0.01,
            "{found:?}"
        );
        // A grid point that hits zero exactly.
        assert_eq!(
            crossovers_on(&[1.0, 10.0, 100.0], |s| s - 10.0, 0.01, 5),
            [10.0]
        );
    }
}

pub mod scenarios;
