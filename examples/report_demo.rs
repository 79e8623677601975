//! Writes the report of the made-up example run into a folder:
//! `cargo run --example report_demo -- OUT_DIR`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "report-demo".into());
    let report = archsim::report::RunReport::example();
    let charts = archsim::report::charts::cost_by_layout(&report.layouts);
    std::fs::create_dir_all(&dir)?;
    for (name, chart) in [
        ("cost", charts),
        (
            "latency_cdf",
            archsim::report::charts::latency_cdf(&report.layouts),
        ),
        (
            "timeline",
            archsim::report::charts::timeline(&report.layouts[0]),
        ),
        (
            "sweep",
            archsim::report::charts::sweep(report.sweep.as_ref().unwrap()),
        ),
        (
            "tornado",
            archsim::report::charts::tornado(report.sensitivity.as_ref().unwrap()),
        ),
    ] {
        std::fs::write(format!("{dir}/{name}.png"), chart.png()?)?;
        std::fs::write(format!("{dir}/{name}.svg"), chart.svg()?)?;
    }
    Ok(())
}
