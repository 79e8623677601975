//! The ASL executor's speed: whole executions of the shipped Prime Video machine
//! (Convert, an Inline Map of five detectors, Aggregate) with instant tasks, driven
//! the way the simulation drives it. Run: cargo bench --bench asl

use std::sync::Arc;

use archsim::cloud::asl::{self, Action, Execution};
use serde_json::json;

fn main() {
    divan::main();
}

fn machine() -> Arc<asl::Machine> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/prime-video.asl.json"
    );
    Arc::new(asl::load(std::path::Path::new(path)).expect("the shipped machine parses"))
}

/// Runs one execution to the end, granting every transition and echoing every task.
fn run_one(m: &Arc<asl::Machine>, buf: &mut Vec<Action>) -> usize {
    let mut e = Execution::start(m, json!({"stream": 7, "chunk": 12}).into());
    let mut transitions = 0;
    loop {
        e.poll(buf);
        for a in buf.drain(..) {
            match a {
                Action::Enter { cursor, .. } | Action::StartChild { cursor, .. } => {
                    transitions += 1;
                    e.granted(cursor)
                }
                Action::Invoke { cursor, .. } => {
                    let input = e.take_task_input(cursor);
                    e.task_done(cursor, Ok(input))
                }
                Action::Wait { cursor, .. } => e.waited(cursor),
                Action::Choose { cursor, .. } => e.chose(cursor, 0),
                Action::Done(_) => return transitions,
            }
        }
    }
}

/// Items are executions (8 transitions each).
#[divan::bench]
fn prime_video_executions_1000(bencher: divan::Bencher) {
    let m = machine();
    bencher
        .counter(divan::counter::ItemsCount::new(1000u64))
        .bench(|| {
            let mut buf = Vec::with_capacity(16);
            let mut total = 0;
            for _ in 0..1000 {
                total += run_one(&m, &mut buf);
            }
            assert_eq!(total, 8000);
            divan::black_box(total)
        });
}

#[divan::bench]
fn parse_prime_video(bencher: divan::Bencher) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/prime-video.asl.json"
    );
    let text = std::fs::read_to_string(path).expect("shipped file");
    bencher.bench(|| divan::black_box(asl::parse("prime-video.asl.json", &text).is_ok()));
}
