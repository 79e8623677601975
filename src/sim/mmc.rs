//! A multi-server queue built from the engine's parts: Poisson arrivals, c servers
//! (a [`Pool`]), exponential or deterministic service, with a FIFO wait queue
//! (M/M/c, M/D/c) or none (the loss system M/M/c/c). Used by `validate` and by the
//! benchmarks, and a worked example of the engine.

use rand::Rng;
use rand_distr::Exp1;
use serde::Serialize;

use super::{EventQueue, Histogram, Pool, Rng64, Time, TimeWeighted};

/// Service-time distribution of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Exponential,
    Deterministic,
}

/// A queue to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QueueModel {
    /// Arrivals per second (Poisson).
    pub arrival_rate: f64,
    /// Mean service time.
    pub service_mean: Time,
    pub servers: u32,
    pub service: Service,
    /// True for a loss system: an arrival that finds every server busy leaves.
    pub loss: bool,
}

impl QueueModel {
    /// Offered load in Erlangs, λ/μ.
    pub fn offered_load(&self) -> f64 {
        self.arrival_rate * self.service_mean as f64 / 1e9
    }
    /// Utilization ρ = λ/(cμ) of the waiting system.
    pub fn rho(&self) -> f64 {
        self.offered_load() / self.servers.max(1) as f64
    }
}

/// What one run measured, over the customers after the warm-up.
#[derive(Debug, Clone, Serialize)]
pub struct QueueResult {
    /// Customers measured (arrived after the warm-up).
    pub customers: u64,
    /// Measured customers who found every server busy.
    pub waited: u64,
    /// Measured customers turned away (loss system).
    pub blocked: u64,
    /// Mean wait in queue, ns.
    pub mean_wait: f64,
    /// Mean time in system, ns.
    pub mean_sojourn: f64,
    /// Time-weighted mean number in system over the measurement window.
    pub mean_in_system: f64,
    /// Arrivals per ns over the measurement window.
    pub arrival_rate_observed: f64,
    /// Time-weighted busy servers / c over the measurement window.
    pub utilization: f64,
    /// Events the engine processed.
    pub events: u64,
    /// Length of the measurement window, ns.
    pub window: Time,
    #[serde(skip)]
    pub wait_histogram: Histogram,
}

impl QueueResult {
    pub fn p_wait(&self) -> f64 {
        self.waited as f64 / self.customers.max(1) as f64
    }
    pub fn p_block(&self) -> f64 {
        self.blocked as f64 / self.customers.max(1) as f64
    }
    /// λ·W of Little's law, to compare with `mean_in_system`.
    pub fn little_lw(&self) -> f64 {
        let admitted = (self.customers - self.blocked) as f64 / self.customers.max(1) as f64;
        self.arrival_rate_observed * admitted * self.mean_sojourn
    }
}

enum Ev {
    Arrival,
    Departure { arrival: Time, measured: bool },
}

/// Simulates `warmup` + `customers` arrivals of `model`, measuring the last
/// `customers`, with all randomness from `rng`.
pub fn simulate(model: &QueueModel, customers: u64, warmup: u64, rng: &mut Rng64) -> QueueResult {
    let mean_ia = if model.arrival_rate > 0.0 {
        1e9 / model.arrival_rate
    } else {
        f64::INFINITY
    };
    let svc_mean = model.service_mean as f64;
    let draw_service = |rng: &mut Rng64| -> Time {
        match model.service {
            Service::Deterministic => model.service_mean,
            Service::Exponential => {
                let x: f64 = rng.sample(Exp1);
                (x * svc_mean).round() as Time
            }
        }
    };
    let mut q: EventQueue<Ev> = EventQueue::new();
    let mut pool: Pool<(Time, bool)> = Pool::new(model.servers, 0);
    let mut in_system = TimeWeighted::new(0);
    let mut n_system: u64 = 0;
    let mut arrivals: u64 = 0;
    let total = warmup + customers;
    let mut window_start: Time = 0;
    let mut window_end: Time = 0;
    let mut res = QueueResult {
        customers,
        waited: 0,
        blocked: 0,
        mean_wait: 0.0,
        mean_sojourn: 0.0,
        mean_in_system: 0.0,
        arrival_rate_observed: 0.0,
        utilization: 0.0,
        events: 0,
        window: 0,
        wait_histogram: Histogram::new(),
    };
    let mut wait_sum: f64 = 0.0;
    let mut sojourn_sum: f64 = 0.0;
    if total > 0 && mean_ia.is_finite() {
        q.push(0, Ev::Arrival);
    }
    while let Some((now, ev)) = q.pop() {
        match ev {
            Ev::Arrival => {
                arrivals += 1;
                if arrivals == warmup + 1 {
                    window_start = now;
                    in_system.reset(now);
                    pool.reset_stats(now);
                }
                let measured = arrivals > warmup;
                if arrivals < total {
                    let x: f64 = rng.sample(Exp1);
                    q.push(now + (x * mean_ia).round() as Time, Ev::Arrival);
                }
                let admitted = if model.loss {
                    pool.try_acquire(now)
                } else {
                    if pool.busy() >= pool.capacity() && measured {
                        res.waited += 1;
                    }
                    pool.acquire(now, (now, measured)).is_some()
                };
                if model.loss && !admitted {
                    if measured {
                        res.blocked += 1;
                        res.waited += 1;
                    }
                } else {
                    n_system += 1;
                    in_system.set(now, n_system as f64);
                    if admitted {
                        if measured {
                            res.wait_histogram.record(0);
                        }
                        let s = draw_service(rng);
                        q.push(
                            now + s,
                            Ev::Departure {
                                arrival: now,
                                measured,
                            },
                        );
                    }
                }
                if arrivals == total {
                    window_end = now;
                    res.mean_in_system = in_system.mean(now);
                    res.utilization = pool.utilization(now);
                }
            }
            Ev::Departure { arrival, measured } => {
                n_system -= 1;
                in_system.set(now, n_system as f64);
                if measured {
                    sojourn_sum += (now - arrival) as f64;
                }
                if let Some((since, (arr, m))) = pool.release(now) {
                    debug_assert_eq!(since, arr);
                    if m {
                        let w = now - arr;
                        wait_sum += w as f64;
                        res.wait_histogram.record(w);
                    }
                    let s = draw_service(rng);
                    q.push(
                        now + s,
                        Ev::Departure {
                            arrival: arr,
                            measured: m,
                        },
                    );
                }
            }
        }
    }
    let served = (customers - res.blocked).max(1) as f64;
    res.mean_wait = wait_sum / served;
    res.mean_sojourn = sojourn_sum / served;
    res.window = window_end.saturating_sub(window_start);
    res.arrival_rate_observed = if res.window > 0 {
        customers.saturating_sub(1) as f64 / res.window as f64
    } else {
        0.0
    };
    res.events = q.events_processed();
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{millis, rng_stream};

    #[test]
    fn deterministic_queue_without_overlap_never_waits() {
        // One server, service 1 ms, arrivals far apart on average: some still wait,
        // but with c = 50 servers no one does.
        let m = QueueModel {
            arrival_rate: 10.0,
            service_mean: millis(1),
            servers: 50,
            service: Service::Deterministic,
            loss: false,
        };
        let r = simulate(&m, 1000, 0, &mut rng_stream(1, "t", 0));
        assert_eq!(r.waited, 0);
        assert_eq!(r.mean_wait, 0.0);
        assert!((r.mean_sojourn - 1e6).abs() < 1e-9);
        assert_eq!(r.events, 2000);
    }

    #[test]
    fn same_seed_same_result() {
        let m = QueueModel {
            arrival_rate: 800.0,
            service_mean: millis(1),
            servers: 1,
            service: Service::Exponential,
            loss: false,
        };
        let a = simulate(&m, 5000, 100, &mut rng_stream(3, "t", 0));
        let b = simulate(&m, 5000, 100, &mut rng_stream(3, "t", 0));
        assert_eq!(a.mean_wait, b.mean_wait);
        assert_eq!(a.events, b.events);
        let c = simulate(&m, 5000, 100, &mut rng_stream(4, "t", 0));
        assert_ne!(a.mean_wait, c.mean_wait);
    }
}
