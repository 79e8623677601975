//! The M/M/c queue of `archsim validate` (c = 4, ρ = 0.8, mean service 1 ms) run on
//! the archsim engine, for the side-by-side comparison with SimPy
//! (`bench/compare_simpy.sh`). Prints one line of `key=value` pairs: customers,
//! model events (an arrival and a departure per customer, counted the same way in
//! `bench/mmc_simpy.py`), wall seconds, events per second, peak RSS.
//!
//! Usage: cargo run --release --example mmc_bench -- [customers] [servers] [rho] [seed]

use std::time::Instant;

use archsim::sim::mmc::{simulate, QueueModel, Service};
use archsim::sim::{millis, rng_stream};

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> T {
    args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let customers: u64 = arg(&args, 1, 1_000_000);
    let servers: u32 = arg(&args, 2, 4);
    let rho: f64 = arg(&args, 3, 0.8);
    let seed: u64 = arg(&args, 4, 1);
    let model = QueueModel {
        arrival_rate: rho * servers as f64 * 1000.0,
        service_mean: millis(1),
        servers,
        service: Service::Exponential,
        loss: false,
    };
    let mut rng = rng_stream(seed, "bench", 0);
    let t0 = Instant::now();
    let r = simulate(&model, customers, 0, &mut rng);
    let secs = t0.elapsed().as_secs_f64();
    let events = 2 * customers;
    println!(
        "engine=archsim customers={customers} events={events} engine_events={} seconds={secs:.3} events_per_s={:.0} peak_rss_kb={} mean_wait_x_mu={:.4} p_wait={:.4}",
        r.events,
        events as f64 / secs,
        peak_rss_kb().map_or("n/a".to_string(), |k| k.to_string()),
        r.mean_wait / 1e6,
        r.p_wait()
    );
}
