//! Writes the report of the made-up example run into a folder and prints its
//! comparison table: `cargo run --example report_demo -- OUT_DIR [--force]`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "report-demo".into());
    let force = args.any(|a| a == "--force");
    let report = archsim::report::RunReport::example();
    println!(
        "{}",
        archsim::report::table::comparison_table(&report, archsim::report::term::Style::plain())
    );
    for path in archsim::report::write_report(dir.as_ref(), &report, force)? {
        println!("wrote {}", path.display());
    }
    Ok(())
}
