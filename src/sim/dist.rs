//! Durations written with units (`"250ms"`, `"10min"`) and latency distributions as
//! data (`{ kind = "lognormal", median = "30ms", p99 = "200ms" }`).

use std::fmt;

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use super::Time;

/// A duration in nanoseconds, written in files as a string with units, parsed with
/// humantime (`"250ms"`, `"1.5s"` is not accepted by humantime: write `"1s 500ms"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Dur(pub Time);

impl Dur {
    pub const fn ns(self) -> Time {
        self.0
    }
    /// Parses `"250ms"`, `"10min"`, `"1h 30min"`.
    pub fn parse(s: &str) -> Result<Dur, String> {
        let d = humantime::parse_duration(s.trim()).map_err(|e| {
            format!(
                "expected a duration with units such as \"250ms\" or \"10min\", got {s:?} ({e})"
            )
        })?;
        u64::try_from(d.as_nanos())
            .map(Dur)
            .map_err(|_| format!("duration {s:?} is too long"))
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            humantime::format_duration(std::time::Duration::from_nanos(self.0))
        )
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Dur::parse(&s).map_err(de::Error::custom)
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// z of the standard normal distribution at 0.99.
const Z99: f64 = 2.326_347_874_040_840_8;

/// A latency distribution, in nanoseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Dist {
    /// Always `value`.
    Fixed { value: Dur },
    /// Exponential with mean `mean`.
    Exponential { mean: Dur },
    /// Log-normal given by its median and 99th percentile (`p99 >= median`).
    Lognormal { median: Dur, p99: Dur },
    /// Uniform between `low` and `high`.
    Uniform { low: Dur, high: Dur },
}

impl Default for Dist {
    fn default() -> Self {
        Dist::Fixed { value: Dur(0) }
    }
}

/// A [`Dist`] prepared for drawing many times: the lognormal's parameters (two
/// logarithms) are computed once. Draws the same values from the same generator
/// state as [`Dist::sample`].
#[derive(Debug, Clone, Copy)]
pub enum Sampler {
    Fixed(Time),
    Exponential(Time),
    Lognormal(Option<LogNormal<f64>>, Time),
    Uniform(Time, Time),
}

impl Sampler {
    /// One draw, in nanoseconds.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Time {
        match *self {
            Sampler::Fixed(v) => v,
            Sampler::Exponential(_) | Sampler::Uniform(..) => self.dist().sample(rng),
            Sampler::Lognormal(d, median) => {
                if median == 0 {
                    return 0;
                }
                let x = d.map(|d| d.sample(rng)).unwrap_or(median as f64);
                super::secs(x / 1e9)
            }
        }
    }

    fn dist(&self) -> Dist {
        match *self {
            Sampler::Fixed(v) => Dist::Fixed { value: Dur(v) },
            Sampler::Exponential(m) => Dist::Exponential { mean: Dur(m) },
            Sampler::Lognormal(..) => unreachable!("lognormal is drawn directly"),
            Sampler::Uniform(low, high) => Dist::Uniform {
                low: Dur(low),
                high: Dur(high),
            },
        }
    }
}

impl Dist {
    pub fn fixed(ns: Time) -> Dist {
        Dist::Fixed { value: Dur(ns) }
    }
    pub fn exponential(mean_ns: Time) -> Dist {
        Dist::Exponential { mean: Dur(mean_ns) }
    }
    pub fn lognormal(median_ns: Time, p99_ns: Time) -> Dist {
        Dist::Lognormal {
            median: Dur(median_ns),
            p99: Dur(p99_ns),
        }
    }
    pub fn uniform(low_ns: Time, high_ns: Time) -> Dist {
        Dist::Uniform {
            low: Dur(low_ns),
            high: Dur(high_ns),
        }
    }

    /// Checks the parameters; the message says what is expected.
    pub fn check(&self) -> Result<(), String> {
        match *self {
            Dist::Lognormal { median, p99 } if median.0 == 0 || p99 < median => Err(format!(
                "a lognormal needs 0 < median <= p99, got median {median} and p99 {p99}"
            )),
            Dist::Uniform { low, high } if high < low => {
                Err(format!("a uniform needs low <= high, got {low} and {high}"))
            }
            _ => Ok(()),
        }
    }

    /// One draw, in nanoseconds. Parameters that fail `check` are clamped rather
    /// than panicking.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Time {
        match *self {
            Dist::Fixed { value } => value.0,
            Dist::Exponential { mean } => {
                if mean.0 == 0 {
                    return 0;
                }
                let x: f64 = Exp::new(1.0).map(|e| e.sample(rng)).unwrap_or(0.0);
                super::secs(x * mean.0 as f64 / 1e9)
            }
            Dist::Lognormal { median, p99 } => {
                if median.0 == 0 {
                    return 0;
                }
                let (mu, sigma) = Self::lognormal_params(median.0, p99.0);
                let x = LogNormal::new(mu, sigma)
                    .map(|d| d.sample(rng))
                    .unwrap_or(median.0 as f64);
                super::secs(x / 1e9)
            }
            Dist::Uniform { low, high } => {
                if high.0 <= low.0 {
                    low.0
                } else {
                    rng.random_range(low.0..=high.0)
                }
            }
        }
    }

    /// This distribution prepared for repeated draws.
    pub fn sampler(&self) -> Sampler {
        match *self {
            Dist::Fixed { value } => Sampler::Fixed(value.0),
            Dist::Exponential { mean } => Sampler::Exponential(mean.0),
            Dist::Lognormal { median, p99 } => {
                if median.0 == 0 {
                    return Sampler::Lognormal(None, 0);
                }
                let (mu, sigma) = Self::lognormal_params(median.0, p99.0);
                Sampler::Lognormal(LogNormal::new(mu, sigma).ok(), median.0)
            }
            Dist::Uniform { low, high } => Sampler::Uniform(low.0, high.0),
        }
    }

    fn lognormal_params(median: Time, p99: Time) -> (f64, f64) {
        let mu = (median as f64).ln();
        let sigma = ((p99.max(median) as f64).ln() - mu) / Z99;
        (mu, sigma.max(0.0))
    }

    /// The mean, in nanoseconds.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Fixed { value } => value.0 as f64,
            Dist::Exponential { mean } => mean.0 as f64,
            Dist::Lognormal { median, p99 } => {
                let (mu, sigma) = Self::lognormal_params(median.0, p99.0);
                (mu + sigma * sigma / 2.0).exp()
            }
            Dist::Uniform { low, high } => (low.0 as f64 + high.0 as f64) / 2.0,
        }
    }

    /// The `p` quantile, in nanoseconds: exact for each family (the lognormal's
    /// through the inverse normal CDF). `p` is clamped to 0..=1.
    pub fn quantile(&self, p: f64) -> f64 {
        use statrs::distribution::{ContinuousCDF, Normal};
        let p = if p.is_nan() { 0.5 } else { p.clamp(0.0, 1.0) };
        match *self {
            Dist::Fixed { value } => value.0 as f64,
            Dist::Exponential { mean } => -(mean.0 as f64) * (-p).ln_1p(),
            Dist::Lognormal { median, p99 } => {
                let (mu, sigma) = Self::lognormal_params(median.0, p99.0);
                if median.0 == 0 {
                    return 0.0;
                }
                let z = Normal::standard().inverse_cdf(p);
                (mu + sigma * z).exp()
            }
            Dist::Uniform { low, high } => {
                let (low, high) = (low.0 as f64, high.0.max(low.0) as f64);
                low + p * (high - low)
            }
        }
    }

    /// A one-line description such as `lognormal(median 30ms, p99 200ms)`.
    pub fn describe(&self) -> String {
        match self {
            Dist::Fixed { value } => format!("fixed {value}"),
            Dist::Exponential { mean } => format!("exponential(mean {mean})"),
            Dist::Lognormal { median, p99 } => format!("lognormal(median {median}, p99 {p99})"),
            Dist::Uniform { low, high } => format!("uniform({low} .. {high})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{millis, rng_stream, Histogram};

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct T {
        d: Dist,
        keep: Dur,
    }

    #[test]
    fn parses_from_toml() {
        let t: T = toml::from_str(
            "keep = \"10min\"\nd = { kind = \"lognormal\", median = \"30ms\", p99 = \"200ms\" }",
        )
        .unwrap();
        assert_eq!(t.keep, Dur(600 * 1_000_000_000));
        assert_eq!(t.d, Dist::lognormal(millis(30), millis(200)));
        let bad = toml::from_str::<T>("keep = \"10\"\nd = { kind = \"fixed\", value = \"1ms\" }");
        assert!(bad.unwrap_err().to_string().contains("units"));
        let unknown =
            toml::from_str::<T>("keep = \"1s\"\nd = { kind = \"fixed\", value = \"1ms\", x = 1 }");
        assert!(unknown.is_err());
        let kind = toml::from_str::<T>("keep = \"1s\"\nd = { kind = \"gamma\", value = \"1ms\" }");
        assert!(kind.is_err());
        assert_eq!(Dur(millis(250)).to_string(), "250ms");
    }

    #[test]
    fn lognormal_hits_its_median_and_p99() {
        let d = Dist::lognormal(millis(30), millis(200));
        assert!(d.check().is_ok());
        let mut rng = rng_stream(1, "dist", 0);
        let mut h = Histogram::new();
        for _ in 0..200_000 {
            h.record(d.sample(&mut rng));
        }
        let p50 = h.quantile(0.5) as f64 / 1e6;
        let p99 = h.quantile(0.99) as f64 / 1e6;
        assert!((p50 - 30.0).abs() < 0.6, "p50 {p50}");
        assert!((p99 - 200.0).abs() < 8.0, "p99 {p99}");
        assert!(((h.mean() - d.mean()) / d.mean()).abs() < 0.02);
    }

    #[test]
    fn sampler_draws_what_sample_draws() {
        for d in [
            Dist::lognormal(millis(20), millis(150)),
            Dist::lognormal(0, millis(150)),
            Dist::fixed(millis(3)),
            Dist::Exponential {
                mean: Dur(millis(7)),
            },
            Dist::Uniform {
                low: Dur(5),
                high: Dur(500),
            },
        ] {
            let (mut a, mut b) = (rng_stream(3, "s", 0), rng_stream(3, "s", 0));
            let s = d.sampler();
            for _ in 0..1000 {
                assert_eq!(d.sample(&mut a), s.sample(&mut b), "{d:?}");
            }
        }
    }

    #[test]
    fn quantiles_are_exact() {
        let ln = Dist::lognormal(millis(40), millis(120));
        assert!((ln.quantile(0.5) - 40e6).abs() < 1e-3);
        assert!((ln.quantile(0.99) - 120e6).abs() < 1e-2);
        // Exponential: the median is mean x ln 2.
        let e = Dist::exponential(millis(10));
        assert!((e.quantile(0.5) - 10e6 * std::f64::consts::LN_2).abs() < 1e-3);
        assert_eq!(Dist::uniform(10, 20).quantile(0.25), 12.5);
        assert_eq!(Dist::fixed(7).quantile(0.9), 7.0);
        assert_eq!(ln.quantile(0.0), 0.0);
    }

    #[test]
    fn others_sample_in_range() {
        let mut rng = rng_stream(2, "dist", 0);
        assert_eq!(Dist::fixed(5).sample(&mut rng), 5);
        for _ in 0..1000 {
            let u = Dist::uniform(10, 20).sample(&mut rng);
            assert!((10..=20).contains(&u));
        }
        let e = Dist::exponential(millis(1));
        let m: f64 = (0..100_000).map(|_| e.sample(&mut rng) as f64).sum::<f64>() / 1e5;
        assert!((m / 1e6 - 1.0).abs() < 0.02, "{m}");
        assert!(Dist::lognormal(millis(30), millis(10)).check().is_err());
        assert!(Dist::uniform(3, 2).check().is_err());
    }
}
