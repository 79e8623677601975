//! The discrete-event engine. It knows nothing of AWS: simulated time in integer
//! nanoseconds, an event queue that is first-in first-out among equal times, seeded
//! random streams from a portable generator, resources (a counting pool with a FIFO
//! wait queue, a token bucket), latency distributions given as data, and streaming
//! statistics whose memory does not grow with the number of events.
//!
//! `validate` checks the engine against exact queueing results (Erlang B and C,
//! Pollaczek–Khinchine, Little's law).

pub mod dist;
pub mod mmc;
pub mod queue;
pub mod resource;
pub mod rng;
pub mod stats;
pub mod validate;

pub use dist::{Dist, Dur, Sampler};
pub use queue::EventQueue;
pub use resource::{Pool, TokenBucket};
pub use rng::{rng_stream, Rng64};
pub use stats::{Counter, Histogram, RunningStats, TimeWeighted};

/// Simulated time and durations, in integer nanoseconds.
pub type Time = u64;

/// Nanoseconds in one second.
pub const NS_PER_SEC: u64 = 1_000_000_000;
/// Nanoseconds in one millisecond.
pub const NS_PER_MS: u64 = 1_000_000;

/// `x.round() as u64` (halves away from zero; negative and NaN give 0, beyond
/// `u64::MAX` saturates) without the libm call `f64::round` compiles to on the
/// baseline x86-64 target: hot draws use it.
#[inline]
pub fn round_u64(x: f64) -> u64 {
    let i = x as u64; // truncates toward zero, saturating
                      // For 0 <= x < 2^52 the fraction x - i is exact; above, x is whole.
    if x - i as f64 >= 0.5 {
        i.saturating_add(1)
    } else {
        i
    }
}

/// `x.ceil() as u64` for the same reasons as [`round_u64`].
#[inline]
pub fn ceil_u64(x: f64) -> u64 {
    let i = x as u64;
    if (i as f64) < x {
        i.saturating_add(1)
    } else {
        i
    }
}

/// `s` seconds as nanoseconds, rounded to the nearest; negative or NaN gives 0 and
/// anything beyond `u64::MAX` ns saturates.
pub fn secs(s: f64) -> Time {
    if s.is_nan() || s <= 0.0 {
        0
    } else {
        round_u64(s * NS_PER_SEC as f64)
    }
}

/// `ms` milliseconds as nanoseconds (saturating).
pub const fn millis(ms: u64) -> Time {
    ms.saturating_mul(NS_PER_MS)
}

/// `us` microseconds as nanoseconds (saturating).
pub const fn micros(us: u64) -> Time {
    us.saturating_mul(1_000)
}

/// Whole seconds as nanoseconds (saturating).
pub const fn seconds(s: u64) -> Time {
    s.saturating_mul(NS_PER_SEC)
}

/// Nanoseconds as seconds.
pub fn as_secs(t: Time) -> f64 {
    t as f64 / NS_PER_SEC as f64
}

/// Nanoseconds as milliseconds.
pub fn as_millis(t: Time) -> f64 {
    t as f64 / NS_PER_MS as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_and_ceil_match_std() {
        let xs = [
            0.0,
            0.4,
            0.5,
            0.49999999999999994,
            1.5,
            2.5,
            1e6 + 0.5,
            4503599627370495.5,
            4503599627370497.0,
            9007199254740993.0,
            1.8e19,
            1e30,
            f64::INFINITY,
            f64::NAN,
            -0.7,
            -3.0,
            f64::NEG_INFINITY,
        ];
        for x in xs {
            assert_eq!(round_u64(x), x.round() as u64, "round {x}");
            assert_eq!(ceil_u64(x), x.ceil() as u64, "ceil {x}");
        }
        let mut rng = rng_stream(9, "round", 0);
        for _ in 0..100_000 {
            let x = rand::Rng::random::<f64>(&mut rng) * 1e10;
            assert_eq!(round_u64(x), x.round() as u64);
            assert_eq!(ceil_u64(x), x.ceil() as u64);
        }
    }

    #[test]
    fn time_helpers() {
        assert_eq!(secs(1.5), 1_500_000_000);
        assert_eq!(secs(-1.0), 0);
        assert_eq!(secs(f64::NAN), 0);
        assert_eq!(secs(1e30), u64::MAX);
        assert_eq!(millis(250), 250_000_000);
        assert_eq!(micros(3), 3_000);
        assert_eq!(seconds(2), 2 * NS_PER_SEC);
        assert_eq!(as_millis(millis(7)), 7.0);
        assert_eq!(as_secs(seconds(3)), 3.0);
    }
}
