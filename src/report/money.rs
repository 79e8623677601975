//! Money and quantity formatting for people.

/// Dollars rounded to cents, with amounts under a cent shown to three significant
/// digits instead of as 0.00 (`$0.000125`).
pub fn usd(v: f64) -> String {
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    if a == 0.0 {
        return "$0.00".into();
    }
    if a < 0.005 {
        let digits = (-a.log10()).floor() as usize + 3;
        let shown = format!("{a:.digits$}");
        return format!("{sign}${}", shown.trim_end_matches('0'));
    }
    format!("{sign}${}", thousands(&format!("{a:.2}")))
}

/// A quantity with thousands separators and at most 3 decimals.
pub fn quantity(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        thousands(&format!("{v:.0}"))
    } else if v.abs() >= 100.0 {
        thousands(&format!("{v:.1}"))
    } else {
        format!("{v:.3}")
    }
}

/// Dollars for a chart axis: whole dollars with separators from $10 up, cents below.
pub fn usd_axis(v: f64) -> String {
    if v.abs() >= 10.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        format!("{sign}${}", thousands(&format!("{:.0}", v.abs())))
    } else {
        usd(v)
    }
}

/// A duration given in milliseconds, in the unit a person reads it in: `850 ms` and
/// `2.5 ms` below 10 s, then `12.3 s`, `33 min`, `2.4 h` (so 1,971,390 ms reads `33 min`).
pub fn duration_ms(v: f64) -> String {
    let a = v.abs();
    if !a.is_finite() {
        return format!("{v} ms");
    }
    if a < 10.0 {
        format!("{v:.1} ms")
    } else if a < 10_000.0 {
        format!("{} ms", thousands(&format!("{v:.0}")))
    } else if a < 60_000.0 {
        format!("{:.1} s", v / 1e3)
    } else if a < 600_000.0 {
        format!("{:.1} min", v / 60e3)
    } else if a < 3_600_000.0 {
        format!("{:.0} min", v / 60e3)
    } else {
        format!("{} h", thousands(&format!("{:.1}", v / 3_600e3)))
    }
}

/// A percentage with one decimal: `95.8%`.
pub fn percent(v: f64) -> String {
    format!("{v:.1}%")
}

/// A small rate in dollars (per stream-hour, per request): three significant digits
/// under a dollar (`$0.0136`), cents above.
pub fn usd_rate(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 || a >= 1.0 {
        return usd(v);
    }
    let sign = if v < 0.0 { "-" } else { "" };
    let digits = ((-a.log10()).floor() as usize + 3).min(12);
    format!("{sign}${a:.digits$}")
}

/// Dollars with `digits` significant digits under a dollar, trailing zeros dropped
/// (`$0.000025`, `$0.04048`, `$0.0006785`), cents from a dollar up. For unit prices
/// and per-stream-second amounts, where cents would read as zero.
pub fn usd_sig(v: f64, digits: usize) -> String {
    let a = v.abs();
    if a == 0.0 || a >= 1.0 || !a.is_finite() {
        return usd(v);
    }
    let sign = if v < 0.0 { "-" } else { "" };
    format!("{sign}${}", trim_decimals(a, digits, 2))
}

/// A quantity with `digits` significant digits, trailing zeros dropped and
/// thousands separators (`24`, `0.00006944`, `1,234,567`, `12.35`).
pub fn significant(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == v.trunc() && v.abs() < 1e15 {
        return thousands(&format!("{v:.0}"));
    }
    let sign = if v < 0.0 { "-" } else { "" };
    format!("{sign}{}", trim_decimals(v.abs(), digits, 0))
}

/// `a` (finite, > 0) with `digits` significant digits and at least `min_decimals`
/// decimals, trailing zeros beyond those dropped, thousands separated.
fn trim_decimals(a: f64, digits: usize, min_decimals: usize) -> String {
    let magnitude = a.log10().floor() as i64;
    let decimals = (digits as i64 - 1 - magnitude).clamp(min_decimals as i64, 15) as usize;
    let s = format!("{a:.decimals$}");
    let s = match s.split_once('.') {
        Some((int, frac)) => {
            let mut frac = frac.trim_end_matches('0').to_string();
            while frac.len() < min_decimals {
                frac.push('0');
            }
            if frac.is_empty() {
                int.to_string()
            } else {
                format!("{int}.{frac}")
            }
        }
        None => s,
    };
    thousands(&s)
}

/// Inserts `,` every three digits of the integer part of a formatted number.
fn thousands(s: &str) -> String {
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let (int, frac) = s.split_once('.').map_or((s, None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    if neg {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_and_sub_cent() {
        assert_eq!(usd(1234.567), "$1,234.57");
        assert_eq!(usd(0.000125), "$0.000125");
        assert_eq!(usd(0.0042), "$0.0042");
        assert_eq!(usd(0.001), "$0.001");
        assert_eq!(usd(-18.3334), "-$18.33");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(0.01), "$0.01");
    }

    #[test]
    fn quantities() {
        assert_eq!(quantity(3000000.0), "3,000,000");
        assert_eq!(quantity(1.5), "1.500");
        assert_eq!(quantity(1234.56), "1,234.6");
    }

    #[test]
    fn latencies_and_percentages() {
        assert_eq!(duration_ms(2.54), "2.5 ms");
        assert_eq!(duration_ms(850.0), "850 ms");
        assert_eq!(duration_ms(9_999.4), "9,999 ms");
        assert_eq!(duration_ms(12_345.6), "12.3 s");
        assert_eq!(duration_ms(59_940.0), "59.9 s");
        assert_eq!(duration_ms(90_000.0), "1.5 min");
        assert_eq!(duration_ms(1_971_390.0), "33 min");
        assert_eq!(duration_ms(9_000_000.0), "2.5 h");
        assert_eq!(percent(95.83), "95.8%");
    }

    #[test]
    fn rates() {
        assert_eq!(usd_rate(0.0136), "$0.0136");
        assert_eq!(usd_rate(0.3246), "$0.325");
        assert_eq!(usd_rate(2.5), "$2.50");
        assert_eq!(usd_rate(0.0), "$0.00");
    }

    #[test]
    fn significant_digits() {
        assert_eq!(usd_sig(0.000025, 6), "$0.000025");
        assert_eq!(
            usd_sig(0.0003 / 12.0, 6),
            "$0.000025",
            "float noise trimmed"
        );
        assert_eq!(usd_sig(0.04048, 6), "$0.04048");
        assert_eq!(usd_sig(0.34, 6), "$0.34");
        assert_eq!(usd_sig(0.5, 4), "$0.50");
        assert_eq!(usd_sig(0.0000166667, 6), "$0.0000166667");
        assert_eq!(usd_sig(0.00067853335, 4), "$0.0006785");
        assert_eq!(usd_sig(-0.0000024, 4), "-$0.0000024");
        assert_eq!(usd_sig(2.44272, 4), "$2.44");
        assert_eq!(usd_sig(1_783_185.6, 4), "$1,783,185.60");
        assert_eq!(usd_sig(0.0, 4), "$0.00");
        assert_eq!(significant(24.0, 4), "24");
        assert_eq!(significant(1_234_567.0, 4), "1,234,567");
        assert_eq!(significant(1.0 / 144_000.0, 4), "0.000006944");
        assert_eq!(significant(12.345, 4), "12.35");
        assert_eq!(significant(2.0000000000000004, 4), "2");
        assert_eq!(significant(1234.5678, 4), "1,235");
        assert_eq!(significant(-0.5, 4), "-0.5");
    }

    #[test]
    fn axis_dollars() {
        assert_eq!(usd_axis(25_000.0), "$25,000");
        assert_eq!(usd_axis(2.5), "$2.50");
        assert_eq!(usd_axis(0.0), "$0.00");
    }
}
