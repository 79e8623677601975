//! The event queue: events ordered by (time, sequence number), so events at equal
//! times come out in the order they were pushed.
//!
//! Events scheduled for the current instant (a handler asking for its next step
//! now: a third of the serverless layouts' events) skip the heap: they wait in a
//! FIFO lane, whose entries all have the clock's time and rising sequence numbers,
//! and the pop takes the lane's front unless the heap holds an earlier-pushed
//! event at that same time. The order is exactly the heap-only one.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use super::Time;

struct Entry<E> {
    time: Time,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    // Reversed: BinaryHeap is a max-heap and we want the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .time
            .cmp(&self.time)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// A priority queue of timed events, FIFO among equal times.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    /// Events pushed for time `now` while it was the clock's time: (seq, event).
    lane: VecDeque<(u64, E)>,
    seq: u64,
    now: Time,
    popped: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            lane: VecDeque::new(),
            seq: 0,
            now: 0,
            popped: 0,
        }
    }

    /// An empty queue with room for `n` pending events.
    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
            ..Self::new()
        }
    }

    /// Schedules `event` at `time`. A time earlier than the last popped one is
    /// moved up to it, so the clock never runs backwards.
    pub fn push(&mut self, time: Time, event: E) {
        let seq = self.seq;
        self.seq += 1;
        if time <= self.now {
            self.lane.push_back((seq, event));
        } else {
            self.heap.push(Entry { time, seq, event });
        }
    }

    /// Removes and returns the earliest event; the clock moves to its time.
    pub fn pop(&mut self) -> Option<(Time, E)> {
        if let Some(&(seq, _)) = self.lane.front() {
            // The heap's top comes first only if it is due now and was pushed earlier.
            let heap_first = self
                .heap
                .peek()
                .is_some_and(|e| e.time == self.now && e.seq < seq);
            if !heap_first {
                let (_, event) = self.lane.pop_front()?;
                self.popped += 1;
                return Some((self.now, event));
            }
        }
        let e = self.heap.pop()?;
        self.now = e.time;
        self.popped += 1;
        Some((e.time, e.event))
    }

    /// Time of the earliest pending event.
    pub fn peek_time(&self) -> Option<Time> {
        if self.lane.is_empty() {
            self.heap.peek().map(|e| e.time)
        } else {
            Some(self.now)
        }
    }

    /// Time of the last popped event (0 before the first).
    pub fn now(&self) -> Time {
        self.now
    }

    /// Pending events.
    pub fn len(&self) -> usize {
        self.heap.len() + self.lane.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.lane.is_empty()
    }

    /// Events popped so far.
    pub fn events_processed(&self) -> u64 {
        self.popped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_time_then_fifo() {
        let mut q = EventQueue::new();
        q.push(10, "b1");
        q.push(5, "a");
        q.push(10, "b2");
        q.push(10, "b3");
        q.push(7, "c");
        let out: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            out,
            vec![(5, "a"), (7, "c"), (10, "b1"), (10, "b2"), (10, "b3")]
        );
        assert_eq!(q.events_processed(), 5);
        assert_eq!(q.now(), 10);
    }

    #[test]
    fn past_events_are_clamped_to_now() {
        let mut q = EventQueue::new();
        q.push(100, 1);
        assert_eq!(q.pop(), Some((100, 1)));
        q.push(50, 2);
        q.push(100, 3);
        assert_eq!(q.pop(), Some((100, 2)));
        assert_eq!(q.pop(), Some((100, 3)));
        assert!(q.is_empty());
        assert_eq!(q.peek_time(), None);
    }

    /// The reference the lane must match: a plain sort by (clamped time, push order).
    fn reference_order(ops: &[(bool, u64)]) -> Vec<(Time, usize)> {
        let mut pending: Vec<(Time, usize)> = Vec::new();
        let (mut now, mut id, mut out) = (0, 0, Vec::new());
        for &(is_push, t) in ops {
            if is_push {
                pending.push((t.max(now), id));
                id += 1;
            } else if let Some(i) = (0..pending.len()).min_by_key(|&i| pending[i]) {
                let e = pending.remove(i);
                now = e.0;
                out.push(e);
            }
        }
        out
    }

    #[test]
    fn same_time_lane_keeps_the_heap_order() {
        use rand::Rng;
        let mut rng = crate::sim::rng_stream(3, "queue", 0);
        for _ in 0..200 {
            // Pushes mostly at the clock's time or just after, interleaved with pops.
            let mut ops = Vec::new();
            let mut q = EventQueue::new();
            let mut got = Vec::new();
            let mut id = 0usize;
            for _ in 0..300 {
                if rng.random::<f64>() < 0.55 {
                    let t = q.now() + [0, 0, 1, 2, 5][rng.random_range(0..5)];
                    let t = if rng.random::<f64>() < 0.1 {
                        t.saturating_sub(3)
                    } else {
                        t
                    };
                    ops.push((true, t));
                    q.push(t, id);
                    id += 1;
                } else {
                    ops.push((false, 0));
                    if let Some(e) = q.pop() {
                        got.push(e);
                    }
                }
                assert_eq!(q.peek_time().is_some(), !q.is_empty());
            }
            assert_eq!(got, reference_order(&ops));
        }
    }
}
