//! Resources: a counting pool with a FIFO wait queue, and a token bucket with exact
//! integer arithmetic.

use std::collections::VecDeque;

use super::stats::TimeWeighted;
use super::{Time, NS_PER_SEC};

/// A counting pool of identical servers (cores, concurrency slots) with a FIFO queue
/// of waiters. It tracks the time-weighted number of busy servers and of waiters.
#[derive(Debug, Clone)]
pub struct Pool<T> {
    capacity: u32,
    busy: u32,
    waiting: VecDeque<(Time, T)>,
    busy_tw: TimeWeighted,
    queue_tw: TimeWeighted,
    peak_queue: usize,
    granted: u64,
    queued: u64,
}

impl<T> Pool<T> {
    /// A pool of `capacity` servers, all free at time `start`.
    pub fn new(capacity: u32, start: Time) -> Self {
        Pool {
            capacity,
            busy: 0,
            waiting: VecDeque::new(),
            busy_tw: TimeWeighted::new(start),
            queue_tw: TimeWeighted::new(start),
            peak_queue: 0,
            granted: 0,
            queued: 0,
        }
    }

    /// Asks for one server at `now`. Returns `Some(item)` if one was free (the caller
    /// starts now); otherwise the item waits in FIFO order and `None` is returned.
    pub fn acquire(&mut self, now: Time, item: T) -> Option<T> {
        if self.busy < self.capacity {
            self.busy += 1;
            self.granted += 1;
            self.busy_tw.set(now, self.busy as f64);
            Some(item)
        } else {
            self.waiting.push_back((now, item));
            self.queued += 1;
            self.peak_queue = self.peak_queue.max(self.waiting.len());
            self.queue_tw.set(now, self.waiting.len() as f64);
            None
        }
    }

    /// Like `acquire`, but never queues: `false` when every server is busy (a loss
    /// system such as M/M/c/c).
    pub fn try_acquire(&mut self, now: Time) -> bool {
        if self.busy < self.capacity {
            self.busy += 1;
            self.granted += 1;
            self.busy_tw.set(now, self.busy as f64);
            true
        } else {
            false
        }
    }

    /// Frees one server at `now`. If someone waits, the server passes to the first
    /// waiter, returned with the time it started waiting.
    pub fn release(&mut self, now: Time) -> Option<(Time, T)> {
        if let Some(next) = self.waiting.pop_front() {
            self.granted += 1;
            self.queue_tw.set(now, self.waiting.len() as f64);
            Some(next)
        } else {
            self.busy = self.busy.saturating_sub(1);
            self.busy_tw.set(now, self.busy as f64);
            None
        }
    }

    /// Servers in the pool.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }
    /// Servers busy now.
    pub fn busy(&self) -> u32 {
        self.busy
    }
    /// Waiters now.
    pub fn queue_len(&self) -> usize {
        self.waiting.len()
    }
    /// Longest the wait queue has been.
    pub fn peak_queue(&self) -> usize {
        self.peak_queue
    }
    /// Times a server was handed out (immediately or after waiting).
    pub fn granted(&self) -> u64 {
        self.granted
    }
    /// Times a request had to wait.
    pub fn queued(&self) -> u64 {
        self.queued
    }
    /// Mean busy servers over [start, now] divided by capacity.
    pub fn utilization(&self, now: Time) -> f64 {
        if self.capacity == 0 {
            0.0
        } else {
            self.busy_tw.mean(now) / self.capacity as f64
        }
    }
    /// Time-weighted mean busy servers.
    pub fn mean_busy(&self, now: Time) -> f64 {
        self.busy_tw.mean(now)
    }
    /// Time-weighted mean queue length.
    pub fn mean_queue(&self, now: Time) -> f64 {
        self.queue_tw.mean(now)
    }
    /// Restarts the time-weighted statistics at `now` (end of a warm-up).
    pub fn reset_stats(&mut self, now: Time) {
        self.busy_tw.reset(now);
        self.queue_tw.reset(now);
        self.peak_queue = self.waiting.len();
        self.granted = 0;
        self.queued = 0;
    }
}

/// A token bucket: `capacity` tokens, refilled at `refill_per_s` tokens a second,
/// full at time `start`. Levels are kept in exact integer units (10^-15 token), and
/// the refill rate is exact to 10^-6 token/s.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenBucket {
    capacity: u128,
    /// Units added per nanosecond (= micro-tokens per second).
    rate: u128,
    level: u128,
    last: Time,
    taken: u64,
    delayed: u64,
    refused: u64,
}

/// Units of one token: 10^15, so that micro-tokens per second are units per ns.
const UNIT: u128 = 1_000_000_000_000_000;

impl TokenBucket {
    /// A full bucket at `start`. A negative or non-finite rate counts as 0.
    pub fn new(capacity: u32, refill_per_s: f64, start: Time) -> Self {
        let rate = if refill_per_s.is_finite() && refill_per_s > 0.0 {
            (refill_per_s * 1e6).round() as u128
        } else {
            0
        };
        debug_assert_eq!(UNIT, 1_000_000 * NS_PER_SEC as u128);
        TokenBucket {
            capacity: capacity as u128 * UNIT,
            rate,
            level: capacity as u128 * UNIT,
            last: start,
            taken: 0,
            delayed: 0,
            refused: 0,
        }
    }

    /// Tokens added per second.
    pub fn refill_per_s(&self) -> f64 {
        self.rate as f64 / 1e6
    }

    /// Tokens a full bucket holds.
    pub fn capacity(&self) -> u32 {
        (self.capacity / UNIT).min(u32::MAX as u128) as u32
    }

    fn refill(&mut self, now: Time) {
        if now > self.last {
            let add = (now - self.last) as u128 * self.rate;
            self.level = (self.level + add).min(self.capacity);
            self.last = now;
        }
    }

    /// Takes one token at `now` if there is one.
    pub fn try_take(&mut self, now: Time) -> bool {
        self.refill(now);
        if self.level >= UNIT {
            self.level -= UNIT;
            self.taken += 1;
            true
        } else {
            self.refused += 1;
            false
        }
    }

    /// Earliest time at or after `now` at which a token is available (`u64::MAX`
    /// if the bucket never refills). Does not take it.
    pub fn next_available(&self, now: Time) -> Time {
        let mut b = self.clone();
        b.refill(now);
        if b.level >= UNIT {
            return now;
        }
        if b.rate == 0 || b.capacity < UNIT {
            return Time::MAX;
        }
        let wait = (UNIT - b.level).div_ceil(b.rate);
        let from = now.max(b.last);
        from.saturating_add(wait.min(u64::MAX as u128) as u64)
    }

    /// Takes one token, waiting for it if the bucket is empty: returns the time the
    /// token is taken (`now` if one is there). Waiters are served first come, first
    /// served, so a later caller waits behind an earlier one.
    pub fn take(&mut self, now: Time) -> Time {
        self.refill(now);
        if self.level >= UNIT {
            self.level -= UNIT;
            self.taken += 1;
            return now;
        }
        let t = self.next_available(now);
        if t == Time::MAX {
            self.refused += 1;
            return t;
        }
        self.refill(t);
        self.level = self.level.saturating_sub(UNIT);
        self.taken += 1;
        self.delayed += 1;
        t
    }

    /// Whole tokens in the bucket at `now`.
    pub fn tokens(&self, now: Time) -> u64 {
        let mut b = self.clone();
        b.refill(now);
        (b.level / UNIT) as u64
    }
    /// Tokens taken (immediately or after waiting).
    pub fn taken(&self) -> u64 {
        self.taken
    }
    /// Tokens `take` had to wait for.
    pub fn delayed(&self) -> u64 {
        self.delayed
    }
    /// Refusals by `try_take`.
    pub fn refused(&self) -> u64 {
        self.refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{millis, seconds};

    #[test]
    fn pool_grants_then_queues_fifo() {
        let mut p = Pool::new(2, 0);
        assert_eq!(p.acquire(0, 'a'), Some('a'));
        assert_eq!(p.acquire(0, 'b'), Some('b'));
        assert_eq!(p.acquire(1, 'c'), None);
        assert_eq!(p.acquire(2, 'd'), None);
        assert_eq!(p.queue_len(), 2);
        assert_eq!(p.release(10), Some((1, 'c')));
        assert_eq!(p.release(11), Some((2, 'd')));
        assert_eq!(p.release(12), None);
        assert_eq!(p.busy(), 1);
        assert_eq!(p.peak_queue(), 2);
        assert!(!{
            let mut q: Pool<()> = Pool::new(0, 0);
            q.try_acquire(0)
        });
    }

    #[test]
    fn pool_utilization_is_time_weighted() {
        let mut p: Pool<()> = Pool::new(2, 0);
        assert!(p.try_acquire(0));
        assert_eq!(p.release(10), None);
        // One of two servers busy for 10 of 20 ns: 25%.
        assert!((p.utilization(20) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn bucket_exactly_at_and_past_its_boundary() {
        // 5 tokens, 2 per second.
        let mut b = TokenBucket::new(5, 2.0, 0);
        for _ in 0..5 {
            assert!(b.try_take(0));
        }
        assert!(
            !b.try_take(0),
            "the sixth token at t=0 is past the boundary"
        );
        // One token needs exactly 0.5 s.
        assert_eq!(b.next_available(0), millis(500));
        assert!(!b.try_take(millis(500) - 1), "1 ns before the refill");
        assert!(b.try_take(millis(500)), "exactly at the refill");
        assert!(!b.try_take(millis(500)));
        // Never more than the capacity.
        assert_eq!(b.tokens(seconds(100)), 5);
    }

    #[test]
    fn bucket_take_waits_in_order() {
        let mut b = TokenBucket::new(1, 1000.0, 0);
        assert_eq!(b.take(0), 0);
        assert_eq!(b.take(0), millis(1));
        assert_eq!(b.take(0), millis(2));
        assert_eq!(b.delayed(), 2);
        assert_eq!(b.taken(), 3);
        // Much later the bucket is full again.
        assert_eq!(b.take(seconds(1)), seconds(1));
    }

    #[test]
    fn bucket_fractional_rate_is_exact() {
        // 500 per minute = 8.333 tokens/s: one token every 120 ms.
        let mut b = TokenBucket::new(1, 500.0 / 60.0, 0);
        assert!(b.try_take(0));
        // 8.333333 tokens/s (exact to 1e-6): 120 ms within 5 ns.
        assert_eq!(b.next_available(0), 120_000_005);
        let zero = TokenBucket::new(0, 0.0, 0);
        assert_eq!(zero.next_available(5), Time::MAX);
        let mut empty = TokenBucket::new(0, 100.0, 0);
        assert_eq!(
            empty.next_available(5),
            Time::MAX,
            "a 0-token bucket never serves"
        );
        assert_eq!(empty.take(5), Time::MAX);
        assert!(!empty.try_take(seconds(10)));
    }
}
