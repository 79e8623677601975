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

/// `s` seconds as nanoseconds, rounded to the nearest; negative or NaN gives 0 and
/// anything beyond `u64::MAX` ns saturates.
pub fn secs(s: f64) -> Time {
    if s.is_nan() || s <= 0.0 {
        0
    } else {
        let ns = (s * NS_PER_SEC as f64).round();
        if ns >= u64::MAX as f64 {
            u64::MAX
        } else {
            ns as u64
        }
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
