//! Whole-run benchmark (divan): the Prime Video scenario's distributed layout with
//! sampled kernels, smaller than the speed target (1,000 streams for one simulated
//! hour, timed by bench/run_speed.sh) so it fits a bench loop.
//! Run: cargo bench --bench run

use archsim::run::{run, RunOptions};
use archsim::scenario::{KernelsChoice, Scenario};

fn main() {
    divan::main();
}

/// `scenarios/prime-video.toml` with only its first (distributed) layout, `streams`
/// streams and `duration` of simulated time.
fn scenario_text(streams: u32, duration: &str) -> String {
    let src = include_str!("../scenarios/prime-video.toml");
    let mut parts = src.split("[[layouts]]");
    let head = parts.next().unwrap_or_default();
    let first = parts.next().unwrap_or_default();
    let head = head
        .replace("duration = \"1h\"", &format!("duration = \"{duration}\""))
        .replace("streams = 2000 ", &format!("streams = {streams} "));
    format!("{head}[[layouts]]{first}")
}

/// 200 streams × 10 simulated minutes: 60,000 executions; items are executions.
#[divan::bench(sample_count = 5)]
fn distributed_200_streams_10min(bencher: divan::Bencher) {
    let text = scenario_text(200, "10min");
    let opts = RunOptions {
        kernels: Some(KernelsChoice::Sampled),
        calibration: None,
        skip_onset: true,
        allow_large: false,
        fidelity: None,
        cohort: None,
    };
    bencher
        .counter(divan::counter::ItemsCount::new(200u64 * 300))
        .bench(|| {
            let r = Scenario::parse("bench.toml", &text, None).expect("scenario");
            let out = run(r, &opts, None, None).expect("run");
            divan::black_box(out)
        });
}
