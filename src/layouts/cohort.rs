//! The fast fidelity mode: a cohort of the streams stands for all of them.
//!
//! Streams are independent and identical in law (each its own phase and draws), so a
//! run of `n` of the `N` streams, with every shared resource that can bind — account
//! quotas, token buckets, Lambda scaling rates, reserved concurrency, fixed fleets and
//! the autoscalers' bounds — cut to `n/N` of its size, is the full run in miniature:
//! its counts times `N/n` are the full run's in expectation, exactly so when nothing
//! binds (each stream's work is then its own). What does not scale is granularity (a
//! machine is a machine): the cohort is kept large enough that the fleets it needs
//! have many machines, and the error this leaves is measured against the full
//! simulation by `bench/fidelity.sh` (the bound the output states).

use serde::Serialize;

use super::onset::Onset;
use super::{LayoutRun, TimelinePoint};
use crate::cloud::{Ec2Scaling, LambdaConfig};
use crate::scenario::overload::QuotaSetting;
use crate::scenario::{LayoutSpec, Resolved, S3Prefixes};
use crate::sim::Time;
use toml::Spanned;

/// Streams the fast mode simulates (at most; all of them when there are fewer).
/// Chosen with `bench/fidelity.sh`: at 250 the monolith's bill came out 1.8% high
/// and its p95 16% low (ten-odd machines round up more than a hundred); at 500,
/// 0.6% and 3.9%.
pub const COHORT_STREAMS: u32 = 500;

/// Cost error the fast mode is validated within (fraction of the full run's monthly
/// cost, every layout; measured by `bench/fidelity.sh`, README "Fidelity").
pub const FAST_COST_BOUND: f64 = 0.01;
/// p95 latency error the fast mode is validated within (fraction of the full run's
/// p95, every layout; measured by `bench/fidelity.sh`, README "Fidelity").
pub const FAST_P95_BOUND: f64 = 0.05;

/// The smallest cohort share n/N the bounds above were validated at: 500 of Prime
/// Video's 2,000 streams (`bench/fidelity.sh` runs 500 of 1,000 too).
pub const VALIDATED_SHARE: f64 = 0.25;
/// Cost error the fast mode is measured within at a smaller share: 500 of 10,000
/// streams, the day's (`bench/fidelity.sh 10000 2`). A layout held back by Lambda's
/// concurrency quota is off by about 215% divided by the quota's slots in the cohort
/// (lambda-direct: +4.3% with 50 of 1,000, +2.1% with 100, +0.9% with 200); the
/// others were within 1.2%.
pub const SMALL_SHARE_COST_BOUND: f64 = 0.05;
/// The smallest share validated at all (500 of 10,000); below it the note says so.
pub const SMALLEST_VALIDATED_SHARE: f64 = 0.05;

/// How faithfully a run simulates its streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fidelity {
    /// A cohort of [`COHORT_STREAMS`] streams scaled to all of them (sampled kernels
    /// only; with real kernels, or no more streams than the cohort, the run is full).
    /// Steady segments on top (`layouts::segments`). The shipped Prime Video
    /// scenarios ask for it (`fidelity = "fast"`).
    Fast,
    /// Every stream, every event (the default where a scenario does not say).
    #[default]
    Full,
}

impl Fidelity {
    pub fn as_str(self) -> &'static str {
        match self {
            Fidelity::Fast => "fast",
            Fidelity::Full => "full",
        }
    }
}

/// The errors a mode is validated within, as fractions of the full run's figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct ErrorBound {
    pub cost: f64,
    pub p95: f64,
}

/// Which mode ran, with what cohort, and its validated error bound (the report's
/// `"fidelity"`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct FidelityInfo {
    pub mode: Fidelity,
    /// Streams simulated (the cohort), and the streams they stand for.
    pub simulated_streams: u32,
    pub streams: u32,
    /// The steady segments run, if any (fast mode, a period longer than a warm-up
    /// and a window; absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steady_segments: Option<SteadySegments>,
    pub error_bound: ErrorBound,
}

/// How the fast mode cut the period: stretches of constant load, each simulated for
/// a warm-up and a window and projected to its length (`layouts::segments`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SteadySegments {
    /// Stretches of constant load in the period.
    pub stretches: usize,
    /// Shortest warm-up (a layout's drop deadlines, autoscaler cooldown and the
    /// stopping rule lengthen its own) and the window of each stretch, seconds.
    pub warmup_s: f64,
    pub window_s: f64,
}

impl FidelityInfo {
    /// The full simulation of `streams` streams: no error against itself.
    pub fn full(streams: u32) -> FidelityInfo {
        FidelityInfo {
            mode: Fidelity::Full,
            simulated_streams: streams,
            streams,
            steady_segments: None,
            error_bound: ErrorBound {
                cost: 0.0,
                p95: 0.0,
            },
        }
    }

    /// One sentence for the table's notes and the report.
    pub fn note(&self) -> String {
        match self.mode {
            Fidelity::Full => format!(
                "Fidelity: full — every one of the {} streams simulated event by event.",
                self.streams
            ),
            Fidelity::Fast => {
                let mut how = Vec::new();
                if self.simulated_streams < self.streams {
                    how.push(format!(
                        "a cohort of {} of the {} streams simulated, with every quota and fleet bound cut to its share, and scaled up",
                        self.simulated_streams, self.streams
                    ));
                }
                if let Some(s) = &self.steady_segments {
                    let which = match s.stretches {
                        1 => "the period, of constant load,".to_string(),
                        n => format!(
                            "each of the {n} stretches of constant load, in order (each from the Lambda environments the one before scaled to),"
                        ),
                    };
                    how.push(format!(
                        "{which} simulated for a warm-up (at least {} s; longer for a layout's drop deadlines or autoscaler cooldown, and until its runs end alike) and a {} s window, and projected to its length (where a layout drops what it cannot carry)",
                        s.warmup_s, s.window_s
                    ));
                }
                if how.is_empty() {
                    how.push(format!("all {} streams simulated", self.streams));
                }
                // The bound is the one measured at the cohort's share (`Cohort::info`);
                // below the smallest share measured, none was.
                let share = self.simulated_streams as f64 / self.streams.max(1) as f64;
                let scope = if share < SMALLEST_VALIDATED_SHARE {
                    "; this cohort is a smaller share of the streams than any validated (1 in 20), and a larger `--cohort` is closer"
                } else if self.error_bound.cost > FAST_COST_BOUND {
                    "; a larger `--cohort` is closer"
                } else {
                    ""
                };
                format!(
                    "Fidelity: fast — {}; validated within {}% of the full run's cost and {}% of its p95 latency (bench/fidelity.sh){scope}; `--fidelity full` simulates every stream and every second.",
                    how.join("; "),
                    self.error_bound.cost * 100.0,
                    self.error_bound.p95 * 100.0
                )
            }
        }
    }
}

/// A cohort of `streams` of the scenario's `of` streams.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cohort {
    pub streams: u32,
    pub of: u32,
}

impl Cohort {
    /// The cohort the fast mode runs for `r`, or `None` when it would be every stream.
    pub fn choose(r: &Resolved, size: u32) -> Option<Cohort> {
        let of = *r.scenario.workload.streams.get_ref();
        (of > size && size > 0).then_some(Cohort { streams: size, of })
    }

    /// The cohort's share of the streams, n/N.
    pub fn share(&self) -> f64 {
        self.streams as f64 / self.of as f64
    }

    /// The fast mode's report of itself.
    pub fn info(&self) -> FidelityInfo {
        FidelityInfo {
            mode: Fidelity::Fast,
            simulated_streams: self.streams,
            streams: self.of,
            steady_segments: None,
            error_bound: ErrorBound {
                cost: if self.share() < VALIDATED_SHARE {
                    SMALL_SHARE_COST_BOUND
                } else {
                    FAST_COST_BOUND
                },
                p95: FAST_P95_BOUND,
            },
        }
    }

    /// `x` cut to the cohort's share, at least 1 where it was positive.
    fn part(&self, x: u32) -> u32 {
        if x == 0 {
            0
        } else {
            ((x as f64 * self.share()).round() as u32).max(1)
        }
    }

    /// `r` in miniature: the cohort's streams, and every shared limit cut to its share
    /// (quotas of the catalog and the scenario, each layout's own limits and fleet
    /// bounds, with the defaults a layout would take written out so they are cut too).
    pub fn resolved(&self, r: &Resolved) -> Resolved {
        let mut c = r.clone();
        let w = &mut c.scenario.workload;
        w.streams = Spanned::new(w.streams.span(), self.streams);
        w.ramp_from = w.ramp_from.map(|f| self.part(f));
        let q = &mut c.catalog.quotas;
        q.lambda_concurrent_executions.value = self.part(q.lambda_concurrent_executions.value);
        q.lambda_scaling_2023.initial_burst = self.part(q.lambda_scaling_2023.initial_burst);
        q.lambda_scaling_2023.per_minute = self.part(q.lambda_scaling_2023.per_minute);
        q.lambda_scaling_current.increment = self.part(q.lambda_scaling_current.increment);
        for b in [
            &mut q.sfn_standard_2023,
            &mut q.sfn_standard_current,
            &mut q.sfn_express,
        ] {
            b.start_execution_bucket = self.part(b.start_execution_bucket);
            b.start_execution_refill_per_s *= self.share();
            b.state_transition_bucket = b.state_transition_bucket.map(|x| self.part(x));
            b.state_transition_refill_per_s =
                b.state_transition_refill_per_s.map(|x| x * self.share());
        }
        q.ec2_on_demand_standard_vcpus.value = self.part(q.ec2_on_demand_standard_vcpus.value);
        q.fargate_on_demand_vcpus.value = self.part(q.fargate_on_demand_vcpus.value);
        let s = &mut c.scenario.quotas;
        for setting in [
            &mut s.lambda_concurrency,
            &mut s.step_functions_state_transitions,
            &mut s.step_functions_start_execution,
            &mut s.ec2_vcpus,
            &mut s.fargate_vcpus,
        ] {
            if let QuotaSetting::Raised(n) = setting {
                *n = self.part(*n);
            }
        }
        // One shared S3 prefix carries every stream: its request rate is shared too.
        if c.scenario.layouts.iter().any(|l| {
            matches!(
                l.s3_prefixes.as_ref().map(|p| *p.get_ref()),
                Some(S3Prefixes::Shared)
            )
        }) {
            let p = &mut c.catalog.quotas.s3_per_prefix;
            p.put_per_s = self.part(p.put_per_s);
            p.get_per_s = self.part(p.get_per_s);
        }
        for l in &mut c.scenario.layouts {
            self.layout(l);
        }
        c
    }

    /// A layout's own limits cut to the cohort's share.
    fn layout(&self, l: &mut LayoutSpec) {
        if let Some(a) = l.account.as_mut() {
            let a = a.get_mut();
            a.concurrency_limit = a.concurrency_limit.map(|n| self.part(n));
        }
        for f in [&mut l.converter, &mut l.detector, &mut l.aggregator]
            .into_iter()
            .flatten()
        {
            let f: &mut LambdaConfig = f.get_mut();
            f.reserved_concurrency = f.reserved_concurrency.map(|n| self.part(n));
        }
        let at = l.kind.span();
        match l.kind.get_ref().as_str() {
            "monolith" | "cloned-monolith" => {
                let e = l
                    .ec2
                    .get_or_insert_with(|| Spanned::new(at, super::monolith::default_ec2()));
                self.scaling(&mut e.get_mut().scaling);
            }
            "fargate" => {
                let f = l
                    .fargate
                    .get_or_insert_with(|| Spanned::new(at, super::fargate::default_fargate()));
                self.scaling(&mut f.get_mut().scaling);
            }
            "containers" => {
                let c = l
                    .containers
                    .get_or_insert_with(|| Spanned::new(at.clone(), Default::default()))
                    .get_mut();
                let base = c
                    .service
                    .get_or_insert_with(|| Spanned::new(at, Default::default()))
                    .get_mut();
                let max = base.max_tasks.unwrap_or(super::containers::MAX_TASKS);
                base.max_tasks = Some(self.part(max));
                self.tasks(base);
                for st in c.stages.values_mut() {
                    self.tasks(st.get_mut());
                    let st = st.get_mut();
                    st.max_tasks = st.max_tasks.map(|n| self.part(n));
                }
            }
            _ => {}
        }
    }

    fn tasks(&self, s: &mut super::containers::ServiceSpec) {
        s.initial_tasks = s.initial_tasks.map(|n| self.part(n));
        // The floor stays a floor: a cohort cannot run a fraction of a task.
        s.min_tasks = s.min_tasks.map(|n| self.part(n));
    }

    fn scaling(&self, s: &mut Ec2Scaling) {
        match s {
            Ec2Scaling::Fixed { instances } => *instances = self.part(*instances),
            Ec2Scaling::TargetTracking {
                min, max, initial, ..
            } => {
                *min = self.part(*min);
                *max = self.part(*max);
                *initial = if *initial == 0 {
                    0
                } else {
                    self.part(*initial)
                };
            }
        }
    }

    /// The cohort's run of a layout as the run of every stream: what accumulates
    /// (usage, counts, CPU) times the ratio of stream-hours, what is sized by the
    /// streams (peaks, the timeline's concurrency and instances) times N/n; latency
    /// distributions, as shares, unchanged. `full` is the scenario as written.
    pub fn scale_run(&self, mut run: LayoutRun, full: &Resolved, duration: Time) -> LayoutRun {
        let stream_hours = full.scenario.workload.stream_hours(duration);
        let load = if run.stream_hours > 0.0 {
            stream_hours / run.stream_hours
        } else {
            self.of as f64 / self.streams as f64
        };
        let size = self.of as f64 / self.streams as f64;
        let sized = |n: u32| (n as f64 * size).round().min(u32::MAX as f64) as u32;
        super::segments::Counts::weighted(&[(&run, load)], size).write_into(&mut run);
        run.usage = run.usage.projected(load);
        run.bill = crate::pricing::price(&run.usage, &full.catalog);
        run.stream_hours = stream_hours;
        run.peak_lambda_concurrency = sized(run.peak_lambda_concurrency);
        for n in &mut run.lambda_environments {
            *n = sized(*n);
        }
        run.peak_instances = sized(run.peak_instances);
        let w = &full.scenario.workload;
        for p in &mut run.timeline {
            let t = (p.time_s * 1e9) as Time;
            *p = TimelinePoint {
                time_s: p.time_s,
                active_streams: if t < duration {
                    w.active_streams(t, duration)
                } else {
                    0
                },
                lambda_concurrency: sized(p.lambda_concurrency),
                throttles_per_s: p.throttles_per_s * load,
                instances: sized(p.instances),
            };
        }
        run
    }

    /// A throttle-onset search over the cohort as one over every stream.
    pub fn scale_onset(&self, mut o: Onset) -> Onset {
        let size = self.of as f64 / self.streams as f64;
        o.streams = o
            .streams
            .map(|n| ((n as f64 * size).round() as u32).min(self.of));
        o.searched_up_to = self.of;
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::FixedCost;
    use crate::layouts::{simulate, RunContext};
    use crate::scenario::Scenario;

    fn scenario(body: &str) -> Resolved {
        Scenario::parse("t.toml", body, None).unwrap()
    }

    const HEAD: &str = r#"
name = "t"
seed = 7
duration = "10min"
kernels = "sampled"
[workload]
streams = 400
frames_per_second = 2
frame_size = "1280x720"
detectors = ["black", "freeze"]
chunk_seconds = 2
"#;

    #[test]
    fn limits_are_cut_to_the_cohorts_share() {
        let r = scenario(&format!(
            "{HEAD}[quotas]\nlambda_concurrency = {{ raised = 3000 }}\n\
             [[layouts]]\nname = \"m\"\nkind = \"monolith\"\n\
             [layouts.ec2]\ninstance_type = \"c5.large\"\nscaling = {{ kind = \"fixed\", instances = 40 }}\n\
             [[layouts]]\nname = \"d\"\nkind = \"distributed\"\n[layouts.account]\nconcurrency_limit = 800\n"
        ));
        let c = Cohort::choose(&r, 100).unwrap();
        assert_eq!(c.share(), 0.25);
        let m = c.resolved(&r);
        assert_eq!(*m.scenario.workload.streams.get_ref(), 100);
        assert_eq!(
            m.scenario.quotas.lambda_concurrency,
            QuotaSetting::Raised(750)
        );
        assert_eq!(
            m.catalog.quotas.lambda_concurrent_executions.value,
            r.catalog.quotas.lambda_concurrent_executions.value / 4
        );
        let b = &m.catalog.quotas.sfn_standard_2023;
        let b0 = &r.catalog.quotas.sfn_standard_2023;
        assert_eq!(
            b.state_transition_refill_per_s.unwrap(),
            b0.state_transition_refill_per_s.unwrap() / 4.0
        );
        assert_eq!(
            m.scenario.layouts[0]
                .ec2
                .as_ref()
                .unwrap()
                .get_ref()
                .scaling,
            Ec2Scaling::Fixed { instances: 10 }
        );
        let acct = m.scenario.layouts[1].account.as_ref().unwrap().get_ref();
        assert_eq!(acct.concurrency_limit, Some(200));
        // No cohort when it would be every stream.
        assert_eq!(Cohort::choose(&r, 400), None);
    }

    /// With nothing binding (a fixed fleet with a machine for every stream, constant
    /// per-frame cost) a stream's frames are its own: a cohort of a quarter of the
    /// streams, scaled, counts every frame and item the full run does, exactly, and
    /// bills what it does but for the drain after the period.
    #[test]
    fn scaling_is_exact_when_nothing_binds() {
        let r = scenario(&format!(
            "{HEAD}[quotas]\nec2_vcpus = {{ raised = 100000 }}\n\
             [[layouts]]\nname = \"m\"\nkind = \"monolith\"\n\
             [layouts.ec2]\ninstance_type = \"c5.large\"\nscaling = {{ kind = \"fixed\", instances = 400 }}\n"
        ));
        // Work of 1.5 of a c5.large's 2 vCPUs a stream: one stream to a machine, so
        // no stream waits for another's frames.
        let unit = FixedCost::uniform(1_000_000, 100_000);
        let stages = crate::layouts::instances::all_stages(&RunContext::new(&r, &unit));
        let per_ms =
            crate::layouts::instances::mean_frame_cpu(&RunContext::new(&r, &unit), &stages);
        let ns = (1.5e9 / 2.0 / per_ms * 1e6).round() as u64;
        let cost = FixedCost::uniform(ns, 100_000);
        let full = simulate(&RunContext::new(&r, &cost), &r.scenario.layouts[0]).unwrap();
        let c = Cohort::choose(&r, 100).unwrap();
        let small = c.resolved(&r);
        let ctx = RunContext::new(&small, &cost);
        let part = simulate(&ctx, &small.scenario.layouts[0]).unwrap();
        let scaled = c.scale_run(part, &r, r.duration);
        // Money to the drain after the period: each busy machine runs on until its
        // last frame ends, which depends on its streams' phases (a few seconds in
        // 67 instance-hours).
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-4 * b.abs();
        assert!(full.bill.total_usd > 0.0);
        assert!(
            close(scaled.bill.total_usd, full.bill.total_usd),
            "{} vs {}",
            scaled.bill.total_usd,
            full.bill.total_usd
        );
        let hours =
            |u: &crate::pricing::Usage| u.ec2.iter().map(|e| e.instance_hours.0).sum::<f64>();
        assert!(close(hours(&scaled.usage), hours(&full.usage)));
        assert_eq!(scaled.frames_captured, full.frames_captured);
        // Which frames end after the period (late) depends on the phases; how many
        // were offered, served and dropped does not.
        assert_eq!(scaled.items.offered, full.items.offered);
        assert_eq!(scaled.items.served(), full.items.served());
        assert_eq!(scaled.items.dropped, full.items.dropped);
        assert_eq!(scaled.peak_instances, full.peak_instances);
        assert_eq!(scaled.stream_hours, full.stream_hours);
        assert_eq!(
            scaled.latency.quantile(0.95),
            full.latency.quantile(0.95),
            "every frame costs the same: the same latencies"
        );
    }

    /// The bound a fast run states is the one measured at its cohort's share: 1%
    /// down to 1 in 4 of the streams, 5% down to 1 in 20 (the day's), and below that
    /// the note says no share so small was validated.
    #[test]
    fn the_stated_bound_is_the_one_measured_at_the_cohorts_share() {
        let bound = |n, of| Cohort { streams: n, of }.info();
        assert_eq!(bound(500, 1000).error_bound.cost, FAST_COST_BOUND);
        assert_eq!(bound(500, 2000).error_bound.cost, FAST_COST_BOUND);
        assert!(!bound(500, 2000).note().contains("--cohort"));
        let day = bound(500, 10_000);
        assert_eq!(day.error_bound.cost, SMALL_SHARE_COST_BOUND);
        assert!(
            day.note().contains("within 5% of the full run's cost"),
            "{}",
            day.note()
        );
        assert!(day.note().contains("a larger `--cohort` is closer"));
        assert!(!day.note().contains("than any validated"));
        assert!(bound(100, 10_000).note().contains("than any validated"));
    }

    #[test]
    fn onsets_scale_back_to_every_stream() {
        let c = Cohort {
            streams: 250,
            of: 10_000,
        };
        let o = c.scale_onset(Onset {
            layout: "d".into(),
            streams: Some(10),
            searched_up_to: 250,
            service: Some("lambda".into()),
            probes: 7,
            share_of_load: Some(0.04),
        });
        assert_eq!(o.streams, Some(400));
        assert_eq!(o.searched_up_to, 10_000);
        assert_eq!(
            o.share_of_load,
            Some(0.04),
            "a share is the same in miniature"
        );
    }
}
