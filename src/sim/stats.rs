//! Streaming statistics with fixed memory: a log-bucketed histogram, counters,
//! time-weighted averages and running mean/variance.

use serde::Serialize;

use super::Time;

/// Sub-buckets per power of two: 2^7 = 128, so a bucket spans at most 1/128 of its
/// lower bound and the midpoint is within 0.4% of any value in it.
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
/// Number of buckets needed for every u64.
const BUCKETS: usize = ((64 - SUB_BITS as usize) + 1) * SUB as usize;

/// A latency histogram over u64 values (nanoseconds) with log-spaced buckets: values
/// below 128 are exact, larger ones within 0.4%. Memory is at most 58 × 128 counts
/// whatever the number of samples; count, sum, min and max are exact.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Histogram {
    counts: Vec<u64>,
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
}

fn bucket_of(v: u64) -> usize {
    if v < SUB {
        v as usize
    } else {
        let e = 63 - v.leading_zeros(); // >= SUB_BITS
        let shift = e - SUB_BITS;
        let mantissa = v >> shift; // in [SUB, 2 SUB)
        ((shift as u64 + 1) * SUB + (mantissa - SUB)) as usize
    }
}

/// Lowest and highest value of a bucket.
fn bucket_bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < SUB {
        (i, i)
    } else {
        let shift = i / SUB - 1;
        let mantissa = SUB + i % SUB;
        let lo = mantissa << shift;
        let hi = lo.saturating_add((1u64 << shift) - 1);
        (lo, hi)
    }
}

impl Histogram {
    pub fn new() -> Self {
        Histogram {
            counts: Vec::new(),
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    /// Records one value.
    #[inline]
    pub fn record(&mut self, v: u64) {
        let i = bucket_of(v);
        if i >= self.counts.len() {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += 1;
        self.count += 1;
        self.sum += v as u128;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// Adds another histogram's samples.
    pub fn merge(&mut self, other: &Histogram) {
        if other.counts.len() > self.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// The weighted sum of histograms, Σ wᵢ·hᵢ bucket by bucket (weights may be
    /// negative: a steady window is a long run less its warm-up), each bucket rounded
    /// and kept at zero or above. Min and max are those of the parts with a positive
    /// weight, kept within the buckets that remain.
    pub fn combined(parts: &[(&Histogram, f64)]) -> Histogram {
        let len = parts.iter().map(|(h, _)| h.counts.len()).max().unwrap_or(0);
        let mut acc = vec![0.0f64; len];
        let mut sum = 0.0f64;
        for (h, w) in parts {
            for (a, c) in acc.iter_mut().zip(&h.counts) {
                *a += *c as f64 * w;
            }
            sum += h.sum as f64 * w;
        }
        let counts: Vec<u64> = acc.iter().map(|a| a.round().max(0.0) as u64).collect();
        let count = counts.iter().sum();
        let mut out = Histogram {
            counts,
            count,
            sum: sum.round().max(0.0) as u128,
            ..Histogram::new()
        };
        if count > 0 {
            let first = out.counts.iter().position(|&c| c > 0).unwrap_or(0);
            let last = out.counts.iter().rposition(|&c| c > 0).unwrap_or(0);
            let positive = || parts.iter().filter(|(h, w)| *w > 0.0 && !h.is_empty());
            let min = positive().map(|(h, _)| h.min).min().unwrap_or(0);
            let max = positive().map(|(h, _)| h.max).max().unwrap_or(u64::MAX);
            let (lo, _) = bucket_bounds(first);
            let (_, hi) = bucket_bounds(last);
            out.min = min.max(lo).min(hi);
            out.max = max.min(hi).max(out.min);
        }
        out
    }

    pub fn count(&self) -> u64 {
        self.count
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// Exact mean (0 when empty).
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }
    /// Exact sum of the values.
    pub fn sum(&self) -> u128 {
        self.sum
    }
    /// Exact smallest value (0 when empty).
    pub fn min(&self) -> u64 {
        if self.count == 0 {
            0
        } else {
            self.min
        }
    }
    /// Exact largest value (0 when empty).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The `q`-quantile (0 ≤ q ≤ 1): the value of rank ⌈q·n⌉, within 0.4%; q = 1
    /// gives the exact maximum, q = 0 the exact minimum. 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let q = if q.is_nan() { 0.5 } else { q.clamp(0.0, 1.0) };
        if q >= 1.0 {
            return self.max;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, hi) = bucket_bounds(i);
                let mid = lo + (hi - lo) / 2;
                return mid.clamp(self.min, self.max);
            }
        }
        self.max
    }

    /// p50, p90, p99, p99.9 and max.
    pub fn summary(&self) -> Percentiles {
        Percentiles {
            count: self.count,
            mean: self.mean(),
            p50: self.quantile(0.50),
            p90: self.quantile(0.90),
            p99: self.quantile(0.99),
            p999: self.quantile(0.999),
            max: self.max,
        }
    }

    /// Bytes held by the buckets (bounded whatever the sample count).
    pub fn memory_bytes(&self) -> usize {
        self.counts.capacity() * std::mem::size_of::<u64>()
    }

    /// Most buckets a histogram can ever hold.
    pub const MAX_BUCKETS: usize = BUCKETS;
}

/// The usual latency percentiles, in the histogram's unit (ns).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// A count of things (requests, throttles, retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counter(pub u64);

impl Counter {
    #[inline]
    pub fn inc(&mut self) {
        self.0 += 1;
    }
    #[inline]
    pub fn add(&mut self, n: u64) {
        self.0 += n;
    }
    pub fn get(&self) -> u64 {
        self.0
    }
}

/// The time-weighted average of a piecewise-constant quantity (busy servers, queue
/// length), and its maximum.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeWeighted {
    start: Time,
    last: Time,
    value: f64,
    integral: f64,
    max: f64,
}

impl TimeWeighted {
    /// Starts at value 0 at time `start`.
    pub fn new(start: Time) -> Self {
        TimeWeighted {
            start,
            last: start,
            value: 0.0,
            integral: 0.0,
            max: 0.0,
        }
    }

    #[inline]
    fn advance(&mut self, now: Time) {
        if now > self.last {
            self.integral += self.value * (now - self.last) as f64;
            self.last = now;
        }
    }

    /// The quantity becomes `v` at `now`.
    #[inline]
    pub fn set(&mut self, now: Time, v: f64) {
        self.advance(now);
        self.value = v;
        self.max = self.max.max(v);
    }

    /// The quantity changes by `delta` at `now`.
    pub fn add(&mut self, now: Time, delta: f64) {
        let v = self.value + delta;
        self.set(now, v);
    }

    /// Current value.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// Largest value seen.
    pub fn max(&self) -> f64 {
        self.max
    }

    /// Time-weighted mean over [start, now] (the current value if no time passed).
    pub fn mean(&self, now: Time) -> f64 {
        let end = now.max(self.last);
        let integral = self.integral + self.value * (end - self.last) as f64;
        if end > self.start {
            integral / (end - self.start) as f64
        } else {
            self.value
        }
    }

    /// Forgets the past (end of a warm-up), keeping the current value.
    pub fn reset(&mut self, now: Time) {
        self.start = now;
        self.last = now;
        self.integral = 0.0;
        self.max = self.value;
    }
}

/// Running mean and variance (Welford), for estimates over replications.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RunningStats {
    n: u64,
    mean: f64,
    m2: f64,
}

impl RunningStats {
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }
    pub fn count(&self) -> u64 {
        self.n
    }
    pub fn mean(&self) -> f64 {
        self.mean
    }
    /// Sample variance (n − 1 denominator); 0 with fewer than two samples.
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            self.m2 / (self.n - 1) as f64
        }
    }
    /// Standard error of the mean.
    pub fn std_error(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            (self.variance() / self.n as f64).sqrt()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut last_hi = None;
        for i in 0..BUCKETS {
            let (lo, hi) = bucket_bounds(i);
            assert!(lo <= hi);
            if let Some(h) = last_hi {
                assert_eq!(lo, h + 1, "bucket {i} starts right after the last");
            }
            assert_eq!(bucket_of(lo), i);
            assert_eq!(bucket_of(hi), i);
            last_hi = Some(hi);
        }
        assert_eq!(last_hi, Some(u64::MAX));
    }

    /// A long run less its warm-up is the window's values: Σ wᵢ·hᵢ bucket by bucket.
    #[test]
    fn a_combination_is_the_weighted_sum_of_the_buckets() {
        let (mut short, mut long) = (Histogram::new(), Histogram::new());
        for v in [5u64, 1_000_000, 1_000_000] {
            short.record(v);
            long.record(v);
        }
        for v in [2_000_000u64, 3_000_000] {
            long.record(v);
        }
        let window = Histogram::combined(&[(&long, 1.0), (&short, -1.0)]);
        assert_eq!(window.count(), 2);
        assert_eq!(window.sum(), 5_000_000);
        // The warm-up's values are gone; the smallest left is known to its bucket.
        let min = window.min();
        assert!(
            min <= 2_000_000 && min as f64 >= 2_000_000.0 * 0.99,
            "{min}"
        );
        assert_eq!(window.max(), 3_000_000);
        // short + 3·window: the warm-up once and three windows.
        let stretch = Histogram::combined(&[(&long, 3.0), (&short, -2.0)]);
        assert_eq!(stretch.count(), 3 + 6);
        assert_eq!(stretch.sum(), 2_000_005 + 15_000_000);
        assert_eq!(stretch.min(), 5);
        assert!(stretch.quantile(0.5) >= 2_000_000);
        assert!(
            Histogram::combined(&[(&short, -1.0)]).is_empty(),
            "never below zero"
        );
    }

    #[test]
    fn quantiles_within_one_percent() {
        let mut h = Histogram::new();
        // 1..=100_000 µs in ns: quantile q is q·100_000 µs.
        for v in 1..=100_000u64 {
            h.record(v * 1000);
        }
        for (q, exact) in [
            (0.5, 50_000_000.0),
            (0.9, 90_000_000.0),
            (0.99, 99_000_000.0),
            (0.999, 99_900_000.0),
        ] {
            let got = h.quantile(q) as f64;
            assert!(
                ((got - exact) / exact).abs() < 0.01,
                "q{q}: {got} vs {exact}"
            );
        }
        assert_eq!(h.max(), 100_000_000);
        assert_eq!(h.min(), 1000);
        assert_eq!(h.quantile(1.0), 100_000_000);
        assert!((h.mean() - 50_000_500.0).abs() < 1e-6);
    }

    #[test]
    fn small_values_are_exact_and_memory_is_bounded() {
        let mut h = Histogram::new();
        for v in [3u64, 3, 7, 100] {
            h.record(v);
        }
        assert_eq!(h.quantile(0.5), 3);
        assert_eq!(h.quantile(0.75), 7);
        assert_eq!(h.quantile(0.76), 100);
        h.record(u64::MAX);
        assert!(h.memory_bytes() <= Histogram::MAX_BUCKETS * 8);
        let mut g = Histogram::new();
        g.record(1);
        g.merge(&h);
        assert_eq!(g.count(), 6);
        assert_eq!(g.min(), 1);
        assert_eq!(g.max(), u64::MAX);
        assert_eq!(Histogram::new().quantile(0.5), 0);
    }

    #[test]
    fn time_weighted_mean_and_reset() {
        let mut t = TimeWeighted::new(0);
        t.set(10, 2.0);
        t.set(20, 0.0);
        assert!((t.mean(40) - 0.5).abs() < 1e-12); // 2 for 10 of 40 ns
        assert_eq!(t.max(), 2.0);
        t.add(40, 3.0);
        t.reset(40);
        assert_eq!(t.mean(50), 3.0);
    }

    #[test]
    fn running_stats() {
        let mut s = RunningStats::default();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            s.push(x);
        }
        assert_eq!(s.mean(), 5.0);
        assert!((s.variance() - 32.0 / 7.0).abs() < 1e-12);
        assert!((s.std_error() - (32.0f64 / 7.0 / 8.0).sqrt()).abs() < 1e-12);
    }
}
