//! The fuzz harness in `cargo test`: mutants of the shipped TOML files through the
//! parse-and-validate path; any panic, hang, empty message, error without position
//! or non-input error fails. `ARCHSIM_FUZZ_COUNT` sets the number of inputs (default
//! 3,000); `cargo run --release --example fuzz_inputs -- --count 1000000` is the full
//! run, `bench/fuzz_binary.sh` the one through the binary.

#[path = "support/mutate.rs"]
mod mutate;

#[test]
fn mutated_inputs_fail_cleanly() {
    let count: u64 = std::env::var("ARCHSIM_FUZZ_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let tally = mutate::run(
        1,
        0..count,
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
    );
    println!("{}", tally.report());
    assert_eq!(tally.inputs, count);
    // The mutants reach both outcomes (the harness tests something).
    assert!(
        tally.counts.keys().any(|(_, c)| *c == "accepted"),
        "{}",
        tally.report()
    );
    assert!(
        tally
            .counts
            .keys()
            .any(|(_, c)| *c == "error with position"),
        "{}",
        tally.report()
    );
    assert_eq!(tally.failed(), 0, "{}", tally.report());
}

#[test]
fn mutants_are_deterministic() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let texts = mutate::seed_texts(root);
    for i in [0, 7, 123_456] {
        assert_eq!(mutate::input(5, i, &texts).2, mutate::input(5, i, &texts).2);
    }
    assert_ne!(mutate::input(5, 1, &texts).2, mutate::input(6, 1, &texts).2);
}
