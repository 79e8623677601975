//! Amazon S3 Standard: PUT and GET with latency, per-prefix request rates and
//! temporary objects kept for a lifecycle period.
//!
//! Rules: latency = first-byte time (a distribution, an assumption) + size ÷
//! per-connection bandwidth (an assumption). Each prefix sustains at least 3,500
//! PUT/COPY/POST/DELETE and 5,500 GET/HEAD per second (catalog `s3_per_prefix`);
//! beyond that S3 answers 503 Slow Down ([`Throttled`]) and the client retries. The
//! rate is modelled as a token bucket per prefix and kind, refilled at the published
//! rate and holding `burst` of it. Refused requests are not metered (assumption).
//! Every PUT object is kept for `lifecycle` and metered as GB-months
//! (1 GB = 2^30 bytes, a month = `hours_per_month`).

use std::collections::BTreeMap;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{Assumption, ThrottleReason, Throttled};
use crate::pricing::usage::{Count, NatGatewayUsage, NonNegative, S3Usage};
use crate::pricing::{Catalog, Usage};
use crate::sim::{millis, Dist, Dur, Histogram, Sampler, Time, TokenBucket, NS_PER_SEC};

/// PUT (tier 1) or GET (tier 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum S3Op {
    Put,
    Get,
}

/// Settings of one bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    pub name: String,
    /// Time to first byte of a request. Assumption.
    pub first_byte: Dist,
    /// Transfer rate of one connection, MB/s (10^6 bytes). Assumption.
    pub bandwidth_mb_per_s: f64,
    /// How long a temporary object is kept before a lifecycle rule deletes it.
    /// Assumption (the shortest lifecycle expiration is 1 day).
    pub lifecycle: Dur,
    /// Seconds of the published rate a prefix can take at once. Assumption.
    pub burst_s: f64,
    /// Hours in the billing month for GB-months. Assumption (AWS prorates by the
    /// month's real hours; 730 is the yearly average).
    pub hours_per_month: f64,
    /// The layout's functions (or tasks) sit in a VPC without an S3 gateway
    /// endpoint, so every byte to and from the bucket passes a NAT gateway, billed
    /// per GB processed. A design choice; off by default (no VPC, or an endpoint).
    pub through_nat: bool,
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            name: "frames".into(),
            first_byte: Dist::lognormal(millis(20), millis(150)),
            bandwidth_mb_per_s: 90.0,
            lifecycle: Dur(24 * 3600 * NS_PER_SEC),
            burst_s: 1.0,
            hours_per_month: 730.0,
            through_nat: false,
        }
    }
}

impl S3Config {
    pub fn check(&self) -> Result<(), String> {
        self.first_byte
            .check()
            .map_err(|e| format!("s3 `{}`: first_byte: {e}", self.name))?;
        if !(self.bandwidth_mb_per_s.is_finite() && self.bandwidth_mb_per_s > 0.0) {
            return Err(format!(
                "s3 `{}`: bandwidth_mb_per_s must be > 0",
                self.name
            ));
        }
        if !(self.burst_s.is_finite() && self.burst_s > 0.0) {
            return Err(format!("s3 `{}`: burst_s must be > 0", self.name));
        }
        if !(self.hours_per_month.is_finite() && self.hours_per_month > 0.0) {
            return Err(format!("s3 `{}`: hours_per_month must be > 0", self.name));
        }
        Ok(())
    }

    pub fn assumptions(&self) -> Vec<Assumption> {
        vec![
            Assumption::new(
                "s3.first_byte",
                self.first_byte.describe(),
                "AWS guide: 100-200 ms for small objects; measurements 10-50 ms p50 in-region (reference/aws.md §4, S/U)",
            ),
            Assumption::new(
                "s3.bandwidth_mb_per_s",
                self.bandwidth_mb_per_s,
                "per connection, 85-90 MB/s from the S3 performance guide's guidance (U)",
            ),
            Assumption::new(
                "s3.lifecycle",
                self.lifecycle,
                "temporary objects (frames, audio buffers, hand-offs) expire after the shortest lifecycle period, 1 day (U)",
            ),
            Assumption::new(
                "s3.burst_s",
                self.burst_s,
                "how much above-rate burst a prefix absorbs: not documented (U)",
            ),
        ]
    }
}

/// Counters of a bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct S3Stats {
    pub puts: u64,
    pub gets: u64,
    pub put_slowdowns: u64,
    pub get_slowdowns: u64,
    pub bytes_put: u64,
    pub bytes_get: u64,
    /// Σ object bytes × time kept, byte-ns.
    pub byte_ns_stored: u128,
    #[serde(skip)]
    pub put_latency: Histogram,
    #[serde(skip)]
    pub get_latency: Histogram,
}

/// A prefix of a bucket, looked up once by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PrefixId(pub usize);

/// One bucket; prefixes are created on first use.
pub struct S3Bucket {
    cfg: S3Config,
    put_rate: u32,
    get_rate: u32,
    /// Prefix names to their index in `buckets`.
    prefixes: BTreeMap<String, PrefixId>,
    /// PUT and GET request-rate buckets of each prefix.
    buckets: Vec<[TokenBucket; 2]>,
    stats: S3Stats,
    /// `cfg.first_byte`, prepared for drawing.
    first_byte: Sampler,
    /// Its mean, ns.
    first_byte_mean: f64,
}

impl S3Bucket {
    pub fn new(catalog: &Catalog, cfg: S3Config) -> Result<S3Bucket, String> {
        cfg.check()?;
        let r = &catalog.quotas.s3_per_prefix;
        Ok(S3Bucket {
            put_rate: r.put_per_s,
            get_rate: r.get_per_s,
            first_byte: cfg.first_byte.sampler(),
            first_byte_mean: cfg.first_byte.mean(),
            cfg,
            prefixes: BTreeMap::new(),
            buckets: Vec::new(),
            stats: S3Stats::default(),
        })
    }

    pub fn config(&self) -> &S3Config {
        &self.cfg
    }
    pub fn stats(&self) -> &S3Stats {
        &self.stats
    }

    /// PUT of `bytes` under `prefix` at `now`: when the upload completes, or 503.
    pub fn put<R: Rng + ?Sized>(
        &mut self,
        now: Time,
        prefix: &str,
        bytes: u64,
        rng: &mut R,
    ) -> Result<Time, Throttled> {
        self.request(S3Op::Put, now, prefix, bytes, rng)
    }

    /// GET of `bytes` under `prefix` at `now`: when the download completes, or 503.
    pub fn get<R: Rng + ?Sized>(
        &mut self,
        now: Time,
        prefix: &str,
        bytes: u64,
        rng: &mut R,
    ) -> Result<Time, Throttled> {
        self.request(S3Op::Get, now, prefix, bytes, rng)
    }

    /// Transfer time of `bytes` on one connection.
    pub fn transfer_ns(&self, bytes: u64) -> Time {
        crate::sim::ceil_u64(bytes as f64 / (self.cfg.bandwidth_mb_per_s * 1e6) * 1e9)
    }

    pub fn request<R: Rng + ?Sized>(
        &mut self,
        op: S3Op,
        now: Time,
        prefix: &str,
        bytes: u64,
        rng: &mut R,
    ) -> Result<Time, Throttled> {
        let id = self.prefix(prefix, now);
        self.request_at(op, now, id, bytes, rng)
    }

    /// The handle of `prefix`, creating its rate buckets (full at `now`) on first use.
    /// Hot loops look a prefix up once and call [`S3Bucket::request_at`].
    pub fn prefix(&mut self, prefix: &str, now: Time) -> PrefixId {
        if let Some(id) = self.prefixes.get(prefix) {
            return *id;
        }
        let mk = |rate: u32| {
            let cap = (rate as f64 * self.cfg.burst_s).round().max(1.0) as u32;
            TokenBucket::new(cap, rate as f64, now)
        };
        let id = PrefixId(self.buckets.len());
        self.buckets.push([mk(self.put_rate), mk(self.get_rate)]);
        self.prefixes.insert(prefix.to_string(), id);
        id
    }

    /// A request to the prefix with handle `id`.
    pub fn request_at<R: Rng + ?Sized>(
        &mut self,
        op: S3Op,
        now: Time,
        id: PrefixId,
        bytes: u64,
        rng: &mut R,
    ) -> Result<Time, Throttled> {
        let idx = match op {
            S3Op::Put => 0,
            S3Op::Get => 1,
        };
        let bucket = &mut self.buckets[id.0][idx];
        if !bucket.try_take(now) {
            match op {
                S3Op::Put => self.stats.put_slowdowns += 1,
                S3Op::Get => self.stats.get_slowdowns += 1,
            }
            return Err(Throttled {
                retry_after: Some(bucket.next_available(now)),
                reason: ThrottleReason::SlowDown,
            });
        }
        let latency = self
            .first_byte
            .sample(rng)
            .saturating_add(self.transfer_ns(bytes));
        match op {
            S3Op::Put => {
                self.stats.puts += 1;
                self.stats.bytes_put += bytes;
                self.stats.byte_ns_stored += bytes as u128 * self.cfg.lifecycle.0 as u128;
                self.stats.put_latency.record(latency);
            }
            S3Op::Get => {
                self.stats.gets += 1;
                self.stats.bytes_get += bytes;
                self.stats.get_latency.record(latency);
            }
        }
        Ok(now.saturating_add(latency))
    }

    /// `n` requests made one after another from `now`, as a handler reads or writes
    /// a chunk's frames. Each takes its own request-rate token and is metered; the
    /// time they take together is drawn once: `n` × the mean first byte plus √n × one
    /// draw's deviation from it (the mean and variance of the sum of `n` draws),
    /// plus `n` transfers. Returns when the last is done, or, on a refusal, how many
    /// went through, when they were done and the refusal.
    pub fn sequential_at<R: Rng + ?Sized>(
        &mut self,
        op: S3Op,
        now: Time,
        id: PrefixId,
        bytes: u64,
        n: u32,
        rng: &mut R,
    ) -> Result<Time, (u32, Time, Throttled)> {
        let idx = match op {
            S3Op::Put => 0,
            S3Op::Get => 1,
        };
        let bucket = &mut self.buckets[id.0][idx];
        let mut done = 0;
        let mut refused = None;
        while done < n {
            if !bucket.try_take(now) {
                refused = Some(Throttled {
                    retry_after: Some(bucket.next_available(now)),
                    reason: ThrottleReason::SlowDown,
                });
                break;
            }
            done += 1;
        }
        let latency = if done == 0 {
            0
        } else {
            let k = done as f64;
            let draw = self.first_byte.sample(rng) as f64;
            let sum = k * self.first_byte_mean + k.sqrt() * (draw - self.first_byte_mean);
            crate::sim::round_u64(sum.max(0.0))
                .saturating_add(self.transfer_ns(bytes).saturating_mul(done as u64))
        };
        let each = latency / done.max(1) as u64;
        match op {
            S3Op::Put => {
                self.stats.puts += done as u64;
                self.stats.bytes_put += bytes * done as u64;
                self.stats.byte_ns_stored +=
                    (bytes * done as u64) as u128 * self.cfg.lifecycle.0 as u128;
                for _ in 0..done {
                    self.stats.put_latency.record(each);
                }
            }
            S3Op::Get => {
                self.stats.gets += done as u64;
                self.stats.bytes_get += bytes * done as u64;
                for _ in 0..done {
                    self.stats.get_latency.record(each);
                }
            }
        }
        let end = now.saturating_add(latency);
        match refused {
            None => Ok(end),
            Some(th) => {
                match op {
                    S3Op::Put => self.stats.put_slowdowns += 1,
                    S3Op::Get => self.stats.get_slowdowns += 1,
                }
                Err((done, end, th))
            }
        }
    }

    /// GB-months of storage of the objects written so far.
    pub fn gb_months(&self) -> f64 {
        let gb_ns = self.stats.byte_ns_stored as f64 / (1u64 << 30) as f64;
        gb_ns / (self.cfg.hours_per_month * 3600.0 * 1e9)
    }

    /// Writes tier-1 (PUT) and tier-2 (GET) requests and storage GB-months.
    pub fn meter(&self, usage: &mut Usage) {
        usage.s3.push(S3Usage {
            name: self.cfg.name.clone(),
            tier1_requests: Count(self.stats.puts),
            tier2_requests: Count(self.stats.gets),
            storage_gb_months: NonNegative(self.gb_months()),
        });
        if self.cfg.through_nat {
            // Uploads and downloads alike: NAT bills the bytes it processes either way.
            let bytes = self.stats.bytes_put + self.stats.bytes_get;
            usage.nat_gateway.push(NatGatewayUsage {
                name: format!("{} (S3 traffic)", self.cfg.name),
                processed_gb: NonNegative(bytes as f64 / (1u64 << 30) as f64),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng_stream;

    fn bucket() -> S3Bucket {
        S3Bucket::new(
            &Catalog::builtin(),
            S3Config {
                first_byte: Dist::fixed(millis(20)),
                bandwidth_mb_per_s: 100.0,
                ..S3Config::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn sequential_requests_are_metered_one_by_one() {
        // Fixed first byte (20 ms) and 100 MB/s: 4 GETs of 1 MB take 4 × (20 + 10) ms.
        let mut b = bucket();
        let mut rng = rng_stream(1, "s3", 9);
        let id = b.prefix("p", 0);
        let end = b
            .sequential_at(S3Op::Get, 0, id, 1_000_000, 4, &mut rng)
            .unwrap();
        assert_eq!(end, 4 * millis(30));
        assert_eq!(b.stats().gets, 4);
        // A prefix allows 3,500 PUTs a second with a one-second burst: 3,501 in the
        // same instant get 3,500 through, then a Slow Down.
        let err = b
            .sequential_at(S3Op::Put, 0, id, 10, 3_501, &mut rng)
            .unwrap_err();
        assert_eq!(err.0, 3_500);
        assert_eq!(b.stats().puts, 3_500);
        assert_eq!(b.stats().put_slowdowns, 1);
    }

    #[test]
    fn latency_is_first_byte_plus_transfer() {
        let mut b = bucket();
        let mut rng = rng_stream(1, "s3", 0);
        // 1 MB at 100 MB/s = 10 ms.
        assert_eq!(b.put(0, "p", 1_000_000, &mut rng), Ok(millis(30)));
        assert_eq!(b.get(5, "p", 0, &mut rng), Ok(5 + millis(20)));
    }

    #[test]
    fn prefix_rate_gives_slowdown_then_retry_succeeds() {
        let mut b = bucket();
        let mut rng = rng_stream(1, "s3", 0);
        for _ in 0..3500 {
            b.put(0, "a/", 10, &mut rng).unwrap();
        }
        let e = b.put(0, "a/", 10, &mut rng).unwrap_err();
        assert_eq!(e.reason, ThrottleReason::SlowDown);
        // Another prefix and GETs have their own limits.
        assert!(b.put(0, "b/", 10, &mut rng).is_ok());
        assert!(b.get(0, "a/", 10, &mut rng).is_ok());
        let retry = e.retry_after.unwrap();
        assert_eq!(retry, 1_000_000_000u64.div_ceil(3500));
        assert!(b.put(retry, "a/", 10, &mut rng).is_ok());
        assert_eq!(b.stats().put_slowdowns, 1);
        assert_eq!(b.stats().puts, 3502);
    }

    #[test]
    fn meters_requests_and_gb_months() {
        let mut b = bucket();
        let mut rng = rng_stream(1, "s3", 0);
        // 30 objects of 1 GiB kept 1 day each = 30 GiB-days = 30·24/730 GB-months.
        for _ in 0..30 {
            b.put(0, "x", 1 << 30, &mut rng).unwrap();
        }
        for _ in 0..7 {
            b.get(0, "x", 1, &mut rng).unwrap();
        }
        let mut usage = Usage::default();
        b.meter(&mut usage);
        let u = &usage.s3[0];
        assert_eq!(u.tier1_requests, Count(30));
        assert_eq!(u.tier2_requests, Count(7));
        assert!((u.storage_gb_months.0 - 30.0 * 24.0 / 730.0).abs() < 1e-12);
        assert!(
            usage.nat_gateway.is_empty(),
            "no NAT unless the layout says so"
        );
    }

    /// Through a NAT gateway every byte PUT and GET is processed by it, in GB of 2^30.
    #[test]
    fn bytes_through_a_nat_gateway_are_metered() {
        let mut b = S3Bucket::new(
            &Catalog::builtin(),
            S3Config {
                through_nat: true,
                ..S3Config::default()
            },
        )
        .unwrap();
        let mut rng = rng_stream(1, "s3", 0);
        for _ in 0..3 {
            b.put(0, "x", 1 << 29, &mut rng).unwrap();
        }
        b.get(0, "x", 1 << 30, &mut rng).unwrap();
        let mut usage = Usage::default();
        b.meter(&mut usage);
        assert_eq!(usage.nat_gateway.len(), 1);
        assert_eq!(usage.nat_gateway[0].name, "frames (S3 traffic)");
        assert!((usage.nat_gateway[0].processed_gb.0 - 2.5).abs() < 1e-12);
        let bill = crate::pricing::price(&usage, &Catalog::builtin());
        let nat = bill.service_total(crate::pricing::Service::NatGateway);
        let per_gb = Catalog::builtin().nat_gateway.data_processing.unit_usd();
        assert!((nat - 2.5 * per_gb).abs() < 1e-9, "{nat}");
    }
}
