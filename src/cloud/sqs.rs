//! Amazon SQS standard queue, for a discrete-event simulation: send, receive with long
//! polling, batched delete and the visibility timeout, each call metered as AWS bills
//! it.
//!
//! Billing rules (catalog `[sqs]`, reference/aws.md §6): every API call is a request,
//! and each 64 KB chunk of its payload is billed as one more (a 256 KB message is 4);
//! receives that return nothing are billed too. A payload over the 256 KB message
//! limit travels as the extended client library sends it: the producer PUTs the body
//! to S3 and sends a small pointer message; the consumer GETs the body. The model
//! returns those S3 requests for the caller to make on its [`S3Bucket`](super::S3Bucket),
//! so S3 meters them.
//!
//! Behaviour (assumptions, see [`SqsConfig::assumptions`]): every call takes a latency
//! drawn from `latency`; visible messages are handed out oldest first (a standard queue
//! promises no order; this is the common case); a receive on an empty queue waits up
//! to `wait_time` for a message and returns as soon as one is sent; a received message
//! is invisible for `visibility_timeout` and is delivered again if not deleted by then.
//!
//! The caller calls in nondecreasing time order. A receive that has to wait returns
//! [`Receive::Waiting`] with a deadline; the caller schedules
//! [`SqsQueue::poll_deadline`] for it, and a [`SqsQueue::send`] that arrives first
//! hands its message to the waiting poller ([`Sent::woke`]).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::Assumption;
use crate::pricing::usage::{Count, QueueType, SqsUsage};
use crate::pricing::{Catalog, Usage};
use crate::sim::{millis, Dist, Dur, Sampler, Time, NS_PER_SEC};

/// Settings of one queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SqsConfig {
    pub name: String,
    /// Time of one API call (send, receive with messages ready, delete). Assumption.
    pub latency: Dist,
    /// Long-poll wait of a receive on an empty queue (WaitTimeSeconds, at most the
    /// catalog's `max_wait_seconds`). Assumption.
    pub wait_time: Dur,
    /// Messages asked for per receive (MaxNumberOfMessages, at most `max_batch`).
    pub receive_batch: u32,
    /// How long a received message stays invisible before it is delivered again.
    pub visibility_timeout: Dur,
    /// Size of the pointer message the extended client sends for an S3 payload.
    /// Assumption.
    pub pointer_bytes: u64,
}

impl Default for SqsConfig {
    fn default() -> Self {
        SqsConfig {
            name: "queue".into(),
            latency: Dist::lognormal(millis(10), millis(60)),
            wait_time: Dur(20 * NS_PER_SEC),
            receive_batch: 10,
            visibility_timeout: Dur(30 * NS_PER_SEC),
            pointer_bytes: 300,
        }
    }
}

impl SqsConfig {
    /// Checks the settings against the catalog's SQS limits.
    pub fn check(&self, catalog: &Catalog) -> Result<(), String> {
        let q = &catalog.sqs;
        self.latency
            .check()
            .map_err(|e| format!("sqs `{}`: latency: {e}", self.name))?;
        if self.wait_time.0 > q.max_wait_seconds.value as u64 * NS_PER_SEC {
            return Err(format!(
                "sqs `{}`: wait_time must be at most {} s, got {}",
                self.name, q.max_wait_seconds.value, self.wait_time
            ));
        }
        if !(1..=q.max_batch.value).contains(&self.receive_batch) {
            return Err(format!(
                "sqs `{}`: receive_batch must be between 1 and {}, got {}",
                self.name, q.max_batch.value, self.receive_batch
            ));
        }
        if self.pointer_bytes == 0 || self.pointer_bytes > q.max_message_bytes.value {
            return Err(format!(
                "sqs `{}`: pointer_bytes must be between 1 and {}",
                self.name, q.max_message_bytes.value
            ));
        }
        Ok(())
    }

    pub fn assumptions(&self) -> Vec<Assumption> {
        vec![
            Assumption::new(
                "sqs.latency",
                self.latency.describe(),
                "time of one SQS API call in-region: not published (U)",
            ),
            Assumption::new(
                "sqs.wait_time",
                self.wait_time,
                "long polling at the longest wait, the usual advice to cut empty receives (U)",
            ),
            Assumption::new(
                "sqs.receive_batch",
                self.receive_batch,
                "consumers ask for the largest batch (U)",
            ),
            Assumption::new(
                "sqs.visibility_timeout",
                self.visibility_timeout,
                "the queue default of 30 s (U)",
            ),
            Assumption::new(
                "sqs.pointer_bytes",
                self.pointer_bytes,
                "size of the extended client's S3 pointer message (U)",
            ),
        ]
    }
}

/// A message, named by the order it was sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MsgId(pub u64);

/// A consumer waiting in a long poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PollerId(pub u64);

/// What one send did.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub message: MsgId,
    /// When the send call returns (the message is in the queue from then).
    pub at: Time,
    /// SQS requests billed for the call.
    pub requests: u64,
    /// Bytes the caller must PUT to S3 first: the payload was over the message limit.
    pub s3_put_bytes: Option<u64>,
    /// A poller that was waiting and now receives this message.
    pub woke: Option<(PollerId, Delivered)>,
}

/// Messages handed to a consumer.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivered {
    /// When the receive call returns.
    pub at: Time,
    pub messages: Vec<Delivery>,
    /// SQS requests billed for the call.
    pub requests: u64,
}

/// One received message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delivery {
    pub message: MsgId,
    /// The payload's size as the producer sent it.
    pub payload_bytes: u64,
    /// Bytes the consumer must GET from S3 (an extended-client payload).
    pub s3_get_bytes: Option<u64>,
    /// How many times this message has been received, this time included.
    pub receive_count: u32,
}

/// The outcome of a receive call.
#[derive(Debug, Clone, PartialEq)]
pub enum Receive {
    /// Messages were ready.
    Messages(Delivered),
    /// Nothing was ready: the poller waits; call [`SqsQueue::poll_deadline`] at
    /// `deadline` unless a send wakes it first.
    Waiting { poller: PollerId, deadline: Time },
}

/// The outcome of a long poll's deadline.
#[derive(Debug, Clone, PartialEq)]
pub enum PollEnd {
    /// The wait ran out with nothing to receive: one empty receive, billed.
    Empty { at: Time, requests: u64 },
    /// A message became visible again (its visibility timeout ended) within the wait.
    Messages(Delivered),
    /// Still waiting (the message it woke for was deleted meanwhile): call again then.
    Waiting { deadline: Time },
    /// The poller was already served by a send; nothing to do.
    Served,
}

/// Counters of a queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SqsStats {
    pub requests: u64,
    pub sends: u64,
    pub receives: u64,
    pub empty_receives: u64,
    pub delete_calls: u64,
    pub deleted: u64,
    /// Deliveries of a message after its visibility timeout ran out.
    pub redeliveries: u64,
    /// Payloads sent through S3 (over the message limit).
    pub s3_payloads: u64,
}

#[derive(Debug, Clone)]
struct Msg {
    payload_bytes: u64,
    /// Bytes the message itself carries in SQS (the pointer for an S3 payload).
    body_bytes: u64,
    via_s3: bool,
    receive_count: u32,
    /// When it becomes visible again, while received and not deleted.
    in_flight_until: Option<Time>,
}

#[derive(Debug, Clone, Copy)]
struct Waiter {
    id: PollerId,
    /// The end of the long poll.
    wait_until: Time,
}

/// One standard queue.
pub struct SqsQueue {
    cfg: SqsConfig,
    queue: QueueType,
    chunk_bytes: u64,
    max_message_bytes: u64,
    max_batch: u64,
    latency: Sampler,
    messages: BTreeMap<MsgId, Msg>,
    /// Visible messages, oldest first.
    ready: VecDeque<MsgId>,
    /// Received, not yet deleted: (visible again at, message).
    in_flight: BTreeSet<(Time, MsgId)>,
    waiting: VecDeque<Waiter>,
    next_msg: u64,
    next_poller: u64,
    stats: SqsStats,
}

impl SqsQueue {
    pub fn new(catalog: &Catalog, cfg: SqsConfig) -> Result<SqsQueue, String> {
        cfg.check(catalog)?;
        let q = &catalog.sqs;
        Ok(SqsQueue {
            latency: cfg.latency.sampler(),
            cfg,
            queue: QueueType::Standard,
            chunk_bytes: q.chunk_bytes.value,
            max_message_bytes: q.max_message_bytes.value,
            max_batch: q.max_batch.value as u64,
            messages: BTreeMap::new(),
            ready: VecDeque::new(),
            in_flight: BTreeSet::new(),
            waiting: VecDeque::new(),
            next_msg: 0,
            next_poller: 0,
            stats: SqsStats::default(),
        })
    }

    pub fn stats(&self) -> &SqsStats {
        &self.stats
    }

    /// Messages in the queue, visible or in flight.
    pub fn depth(&self) -> usize {
        self.messages.len()
    }

    /// Requests billed for one call carrying `payload_bytes`: one per 64 KB chunk,
    /// at least one.
    pub fn billed_requests(&self, payload_bytes: u64) -> u64 {
        payload_bytes.div_ceil(self.chunk_bytes).max(1)
    }

    fn bill(&mut self, requests: u64) -> u64 {
        self.stats.requests += requests;
        requests
    }

    /// Sends one message of `payload_bytes` at `now`.
    pub fn send<R: Rng + ?Sized>(&mut self, now: Time, payload_bytes: u64, rng: &mut R) -> Sent {
        self.release_expired(now);
        let via_s3 = payload_bytes > self.max_message_bytes;
        let body_bytes = if via_s3 {
            self.cfg.pointer_bytes
        } else {
            payload_bytes
        };
        let requests = self.bill(self.billed_requests(body_bytes));
        self.stats.sends += 1;
        self.stats.s3_payloads += via_s3 as u64;
        let id = MsgId(self.next_msg);
        self.next_msg += 1;
        self.messages.insert(
            id,
            Msg {
                payload_bytes,
                body_bytes,
                via_s3,
                receive_count: 0,
                in_flight_until: None,
            },
        );
        let at = now + self.latency.sample(rng);
        self.ready.push_back(id);
        // A waiting long poll returns as soon as a message arrives.
        let woke = self.waiting.pop_front().map(|w| {
            let delivered = self.hand_out(at, 1, rng);
            (w.id, delivered)
        });
        Sent {
            message: id,
            at,
            requests,
            s3_put_bytes: via_s3.then_some(payload_bytes),
            woke,
        }
    }

    /// A receive call at `now` for up to `receive_batch` messages.
    pub fn receive<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R) -> Receive {
        self.release_expired(now);
        if !self.ready.is_empty() {
            let n = self.cfg.receive_batch as usize;
            return Receive::Messages(self.hand_out(now, n, rng));
        }
        let id = PollerId(self.next_poller);
        self.next_poller += 1;
        let wait_until = now + self.cfg.wait_time.0;
        self.waiting.push_back(Waiter { id, wait_until });
        Receive::Waiting {
            poller: id,
            deadline: self.deadline(wait_until),
        }
    }

    /// The poller's deadline has come: its wait ran out, or an in-flight message
    /// becomes visible again.
    pub fn poll_deadline<R: Rng + ?Sized>(
        &mut self,
        now: Time,
        poller: PollerId,
        rng: &mut R,
    ) -> PollEnd {
        let Some(pos) = self.waiting.iter().position(|w| w.id == poller) else {
            return PollEnd::Served;
        };
        self.release_expired(now);
        let w = self.waiting[pos];
        if !self.ready.is_empty() {
            self.waiting.remove(pos);
            let n = self.cfg.receive_batch as usize;
            return PollEnd::Messages(self.hand_out(now, n, rng));
        }
        if now >= w.wait_until {
            self.waiting.remove(pos);
            self.stats.receives += 1;
            self.stats.empty_receives += 1;
            let requests = self.bill(1);
            return PollEnd::Empty { at: now, requests };
        }
        PollEnd::Waiting {
            deadline: self.deadline(w.wait_until),
        }
    }

    /// Deletes received messages, in DeleteMessageBatch calls of at most `max_batch`.
    /// Returns when the last call returns and the requests billed. A message already
    /// visible again (its timeout ran out) is not deleted: its receipt is stale.
    pub fn delete<R: Rng + ?Sized>(
        &mut self,
        now: Time,
        messages: &[Delivery],
        rng: &mut R,
    ) -> (Time, u64) {
        self.release_expired(now);
        if messages.is_empty() {
            return (now, 0);
        }
        let calls = (messages.len() as u64).div_ceil(self.max_batch);
        let requests = self.bill(calls);
        self.stats.delete_calls += calls;
        for d in messages {
            // The receipt of the latest receive only, while the message is in flight.
            let until = self
                .messages
                .get(&d.message)
                .filter(|m| m.receive_count == d.receive_count)
                .and_then(|m| m.in_flight_until);
            if let Some(t) = until {
                self.in_flight.remove(&(t, d.message));
                self.messages.remove(&d.message);
                self.stats.deleted += 1;
            }
        }
        let mut at = now;
        for _ in 0..calls {
            at += self.latency.sample(rng);
        }
        (at, requests)
    }

    /// Writes the queue's billed requests.
    pub fn meter(&self, usage: &mut Usage) {
        if self.stats.requests == 0 {
            return;
        }
        usage.sqs.push(SqsUsage {
            name: self.cfg.name.clone(),
            queue: self.queue,
            requests: Count(self.stats.requests),
        });
    }

    /// The earlier of the wait's end and the next visibility timeout.
    fn deadline(&self, wait_until: Time) -> Time {
        self.in_flight
            .first()
            .map_or(wait_until, |(t, _)| (*t).min(wait_until))
    }

    /// Up to `n` visible messages, received at `now` (one receive call).
    fn hand_out<R: Rng + ?Sized>(&mut self, now: Time, n: usize, rng: &mut R) -> Delivered {
        let mut out = Vec::new();
        let mut bytes = 0;
        while out.len() < n {
            let Some(id) = self.ready.pop_front() else {
                break;
            };
            let m = self.messages.get_mut(&id).expect("a ready message exists");
            let until = now + self.cfg.visibility_timeout.0;
            m.receive_count += 1;
            m.in_flight_until = Some(until);
            if m.receive_count > 1 {
                self.stats.redeliveries += 1;
            }
            bytes += m.body_bytes;
            out.push(Delivery {
                message: id,
                payload_bytes: m.payload_bytes,
                s3_get_bytes: m.via_s3.then_some(m.payload_bytes),
                receive_count: m.receive_count,
            });
            self.in_flight.insert((until, id));
        }
        self.stats.receives += 1;
        let requests = self.bill(self.billed_requests(bytes));
        Delivered {
            at: now + self.latency.sample(rng),
            messages: out,
            requests,
        }
    }

    /// Messages whose visibility timeout ended by `now` become visible again, in
    /// the order they time out.
    fn release_expired(&mut self, now: Time) {
        while let Some(&(t, id)) = self.in_flight.first() {
            if t > now {
                break;
            }
            self.in_flight.pop_first();
            if let Some(m) = self.messages.get_mut(&id) {
                m.in_flight_until = None;
            }
            self.ready.push_back(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{rng_stream, seconds};

    const KB: u64 = 1024;

    fn queue(cfg: SqsConfig) -> SqsQueue {
        SqsQueue::new(
            &Catalog::builtin(),
            SqsConfig {
                latency: Dist::fixed(millis(10)),
                ..cfg
            },
        )
        .unwrap()
    }

    #[test]
    fn payload_chunks_and_the_s3_pointer() {
        let mut q = queue(SqsConfig::default());
        let mut rng = rng_stream(1, "sqs", 0);
        // 100 KB = two 64 KB chunks.
        let a = q.send(0, 100 * KB, &mut rng);
        assert_eq!((a.requests, a.s3_put_bytes), (2, None));
        // 64 KB exactly is one chunk; 256 KB is four.
        assert_eq!(q.send(0, 64 * KB, &mut rng).requests, 1);
        assert_eq!(q.send(0, 256 * KB, &mut rng).requests, 4);
        // 300 KB is over the 256 KB limit: an S3 PUT of the body + one pointer request.
        let b = q.send(0, 300 * KB, &mut rng);
        assert_eq!((b.requests, b.s3_put_bytes), (1, Some(300 * KB)));
        assert_eq!(q.stats().requests, 2 + 1 + 4 + 1);
        // Receiving all four: 100 + 64 + 256 KB + a 300-byte pointer = 420 KB + 300 B
        // in one call = 7 chunks; the consumer must GET the 300 KB body.
        let Receive::Messages(d) = q.receive(seconds(1), &mut rng) else {
            panic!("messages are ready")
        };
        assert_eq!(d.messages.len(), 4);
        assert_eq!(d.requests, (420 * KB + 300).div_ceil(64 * KB));
        assert_eq!(d.requests, 7);
        assert_eq!(d.messages[3].s3_get_bytes, Some(300 * KB));
        assert_eq!(d.messages[0].s3_get_bytes, None);
    }

    #[test]
    fn a_thousand_empty_polls_are_billed() {
        let mut q = queue(SqsConfig {
            wait_time: Dur(seconds(20)),
            ..SqsConfig::default()
        });
        let mut rng = rng_stream(1, "sqs", 0);
        let mut now = 0;
        for _ in 0..1000 {
            let Receive::Waiting { poller, deadline } = q.receive(now, &mut rng) else {
                panic!("the queue is empty")
            };
            assert_eq!(deadline, now + seconds(20));
            let end = q.poll_deadline(deadline, poller, &mut rng);
            assert_eq!(
                end,
                PollEnd::Empty {
                    at: deadline,
                    requests: 1
                }
            );
            now = deadline;
        }
        assert_eq!(q.stats().empty_receives, 1000);
        assert_eq!(q.stats().requests, 1000);
        let mut usage = Usage::default();
        q.meter(&mut usage);
        assert_eq!(usage.sqs[0].requests, Count(1000));
        // 1,000 requests at $0.40 per million.
        let bill = crate::pricing::price(&usage, &Catalog::builtin());
        assert!((bill.total_usd - 1000.0 * 0.40 / 1e6).abs() < 1e-15);
    }

    #[test]
    fn a_send_wakes_a_waiting_long_poll() {
        let mut q = queue(SqsConfig::default());
        let mut rng = rng_stream(1, "sqs", 0);
        let Receive::Waiting { poller, .. } = q.receive(0, &mut rng) else {
            panic!("empty")
        };
        let s = q.send(seconds(3), 1000, &mut rng);
        let (woken, d) = s.woke.expect("the poller was waiting");
        assert_eq!(woken, poller);
        // Sent at 3 s, in the queue at 3.01 s, the receive returns 10 ms later.
        assert_eq!(d.at, seconds(3) + 2 * millis(10));
        assert_eq!(d.messages.len(), 1);
        // Its deadline later finds it served and bills nothing more.
        assert_eq!(
            q.poll_deadline(seconds(20), poller, &mut rng),
            PollEnd::Served
        );
        assert_eq!(q.stats().requests, 2); // the send and the receive
    }

    #[test]
    fn batched_delete_and_visibility_timeout() {
        let mut q = queue(SqsConfig {
            visibility_timeout: Dur(seconds(30)),
            ..SqsConfig::default()
        });
        let mut rng = rng_stream(1, "sqs", 0);
        for _ in 0..25 {
            q.send(0, 100, &mut rng);
        }
        let mut got = Vec::new();
        for _ in 0..3 {
            let Receive::Messages(d) = q.receive(seconds(1), &mut rng) else {
                panic!("ready")
            };
            got.extend(d.messages);
        }
        assert_eq!(got.len(), 25); // 10 + 10 + 5
                                   // Delete 21 of them: three DeleteMessageBatch calls (10 + 10 + 1).
        let (_, requests) = q.delete(seconds(2), &got[..21], &mut rng);
        assert_eq!(requests, 3);
        assert_eq!(q.depth(), 4);
        // Nothing is visible before the timeout: a poll at 15 s (wait until 35 s)
        // ends early at 31 s, when the four undeleted messages come back.
        let Receive::Waiting { poller, deadline } = q.receive(seconds(15), &mut rng) else {
            panic!("in flight")
        };
        assert_eq!(deadline, seconds(31));
        let PollEnd::Messages(d) = q.poll_deadline(deadline, poller, &mut rng) else {
            panic!("the four come back")
        };
        assert_eq!(d.messages.len(), 4);
        assert!(d.messages.iter().all(|m| m.receive_count == 2));
        assert_eq!(q.stats().redeliveries, 4);
        // A stale receipt (the first receive's) deletes nothing.
        q.delete(seconds(32), &got[21..], &mut rng);
        assert_eq!(q.depth(), 4);
        q.delete(seconds(32), &d.messages, &mut rng);
        assert_eq!(q.depth(), 0);
        // 25 sends + 3 receives + 3 deletes + 1 receive + 1 + 1 deletes.
        assert_eq!(q.stats().requests, 25 + 3 + 3 + 1 + 1 + 1);
    }

    #[test]
    fn settings_are_checked_against_the_catalog() {
        let c = Catalog::builtin();
        let bad = |cfg: SqsConfig| SqsQueue::new(&c, cfg).err().unwrap();
        assert!(bad(SqsConfig {
            wait_time: Dur(seconds(21)),
            ..SqsConfig::default()
        })
        .contains("at most 20 s"));
        assert!(bad(SqsConfig {
            receive_batch: 11,
            ..SqsConfig::default()
        })
        .contains("between 1 and 10"));
    }
}
