//! Request sources end to end, through the built binary: the image-uploads example in
//! every layout it names, a CSV trace, and the errors a trace or a request workload
//! can have (file, line and column; exit 2).

use serde_json::Value;

#[path = "support/cli.rs"]
mod cli;
use cli::{input_error, ok};

const UPLOADS: &str = "scenarios/image-uploads.toml";

/// The example shortened to its first hour, in a fresh folder.
fn first_hour() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(UPLOADS)
        .unwrap()
        .replace("duration = \"24h\"", "duration = \"1h\"");
    let path = dir.path().join("uploads-1h.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path.display().to_string())
}

#[test]
fn the_image_uploads_example_runs_in_every_layout_it_names() {
    let (_dir, path) = first_hour();
    let out = ok(&["run", &path, "--format", "json"]);
    let v: Value = serde_json::from_slice(&out).unwrap();
    let layouts = v["layouts"].as_array().unwrap();
    let kinds: Vec<&str> = layouts
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "distributed",
        "lambda-direct",
        "monolith",
        "fargate",
        "containers",
    ] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    // Every layout sees the same arrivals (the seed's), each served once by every
    // stage, and quotes its cost per 1,000 requests.
    let requests = layouts[0]["requests"].as_u64().unwrap();
    // Hour 0 of the daily profile: 2/s × 0.2 = 1,440 expected (σ ≈ 38).
    assert!((1_300..1_600).contains(&requests), "{requests}");
    for l in layouts {
        assert_eq!(l["requests"].as_u64(), Some(requests), "{}", l["name"]);
        assert_eq!(
            l["frames_analyzed"].as_u64(),
            Some(requests),
            "{}",
            l["name"]
        );
        let per = l["usd_per_1000_requests"].as_f64().unwrap();
        let period = l["bill"]["total_usd"].as_f64().unwrap();
        assert!(per > 0.0 && (per - period / requests as f64 * 1000.0).abs() < 1e-9);
        assert!(
            l["latency_ms"]["p50"].as_f64().unwrap() > 0.0,
            "{}",
            l["name"]
        );
    }
    // The table's column follows the source.
    let table = String::from_utf8(ok(&["run", &path])).unwrap();
    assert!(table.contains("per 1,000 requests"), "{table}");
    assert!(!table.contains("stream-hour"), "{table}");
}

/// A request workload's text speaks of requests: the `--details` headers, the load
/// table and the sentences; no line says frames (nor "0 streams").
#[test]
fn request_text_says_requests_not_frames() {
    let (_dir, path) = first_hour();
    let out = String::from_utf8(ok(&["run", &path, "--details"])).unwrap();
    for line in out.lines() {
        let l = line.to_lowercase();
        assert!(
            !l.contains("frame") && !l.contains(" streams"),
            "{line}\n{out}"
        );
    }
    assert!(out.contains("Latency (arrival of a request to the end of its last stage)"));
    assert!(out.contains("95% of requests within"), "{out}");
    assert!(out.contains("every request simulated"), "{out}");
    // A stream scenario keeps its words.
    let out = String::from_utf8(ok(&[
        "run",
        "scenarios/low-traffic.toml",
        "--details",
        "--no-onset",
    ]))
    .unwrap();
    assert!(out.contains("capture of a frame"), "{out}");
}

#[test]
fn stream_scenarios_keep_their_stream_figures() {
    let out = ok(&[
        "run",
        "scenarios/low-traffic.toml",
        "--no-onset",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&out).unwrap();
    for l in v["layouts"].as_array().unwrap() {
        let keys = l.as_object().unwrap();
        assert!(
            !keys.contains_key("requests") && !keys.contains_key("usd_per_1000_requests"),
            "{}",
            l["name"]
        );
        assert!(l["usd_per_stream_hour"].as_f64().unwrap() > 0.0);
    }
    let table =
        String::from_utf8(ok(&["run", "scenarios/low-traffic.toml", "--no-onset"])).unwrap();
    assert!(table.contains("per stream-hour"), "{table}");
}

/// A scenario of the example's stages fed by `trace`, in a fresh folder.
fn trace_scenario(trace: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("arrivals.csv"), trace).unwrap();
    let text = std::fs::read_to_string(UPLOADS).unwrap();
    let start = text.find("[workload.requests]").unwrap();
    let end = text.find("# The uploaded image").unwrap();
    let text = format!(
        "{}[workload.requests]\ntrace = \"arrivals.csv\"\n\n{}",
        &text[..start],
        &text[end..]
    )
    .replace("duration = \"24h\"", "duration = \"10min\"");
    let text = text[..text.find("\n[assumptions.").unwrap()].to_string();
    let path = dir.path().join("trace.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path.display().to_string())
}

#[test]
fn a_csv_trace_feeds_every_layout_its_arrivals() {
    // A header, timestamps out of order, one after the 10-minute run (left out).
    let (_dir, path) = trace_scenario(
        "uploaded_at,user\n2026-12-01T09:00:05Z,a\n2026-12-01T09:00:00Z,b\n2026-12-01T09:02:00.5Z,c\n2026-12-01T09:30:00Z,d\n",
    );
    let v: Value = serde_json::from_slice(&ok(&["run", &path, "--format", "json"])).unwrap();
    for l in v["layouts"].as_array().unwrap() {
        assert_eq!(l["requests"].as_u64(), Some(3), "{}", l["name"]);
    }
}

#[test]
fn trace_errors_name_the_trace_file_line_and_column() {
    let (_dir, path) = trace_scenario("seconds\n0.5\n1.5\nsoon\n");
    let err = input_error(&["run", &path]);
    assert!(
        err.contains("arrivals.csv:4:1:") && err.contains("\"soon\""),
        "{err}"
    );
    let (_dir, path) = trace_scenario("");
    let err = input_error(&["run", &path]);
    assert!(err.contains("no arrivals"), "{err}");
}

#[test]
fn request_workload_mistakes_are_positioned() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(UPLOADS).unwrap();
    let cases = [
        (
            "rate = \"2/s\"",
            "rate = \"2 per second\"",
            "expected a rate like",
        ),
        (
            "[workload.requests]",
            "[workload]\nstreams = 3\n[workload.requests]",
            "has no `streams`",
        ),
        (
            "profile = \"daily\"",
            "profile = \"ramp\"",
            "needs `ramp_from`",
        ),
        (
            "rate = \"2/s\"",
            "rate = \"2/s\"\ntrace = \"x.csv\"",
            "not both",
        ),
        (
            "kernels = \"sampled\"",
            "kernels = \"real\"",
            "kernels = \"sampled\"",
        ),
        ("0.2, 0.1, 0.1,", "0.2, 1.5, 0.1,", "hourly_weights[1]"),
    ];
    for (from, to, want) in cases {
        assert!(text.contains(from), "{from}");
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        let err = input_error(&["run", path.to_str().unwrap()]);
        assert!(err.contains(want), "{to}: {err}");
        assert!(err.contains("bad.toml:"), "{to}: {err}");
        let line: usize = err
            .split("bad.toml:")
            .nth(1)
            .and_then(|r| r.split(':').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(line > 1, "{to}: {err}");
    }
}

#[test]
fn explain_says_it_walks_through_streams() {
    let err = input_error(&["explain", UPLOADS]);
    assert!(err.contains("source is requests"), "{err}");
}

/// The report folder of a request workload labels its items requests: the page's
/// captions and capacity text, the latency CDF's axes and each timeline's first panel
/// (the arrival rate); no chart speaks of frames or streams. A stream workload's
/// report keeps frames and active streams.
#[test]
fn request_reports_and_charts_say_requests() {
    let (dir, path) = first_hour();
    let out = dir.path().join("report");
    ok(&["run", &path, "--out", out.to_str().unwrap()]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for want in [
        "Fraction of requests answered within a given latency",
        "latency per request (ms, log scale)",
        "fraction of requests answered",
        "serves its offered items (requests)",
        "Request rate",
        "requests per second",
    ] {
        assert!(html.contains(want), "`{want}` missing from report.html");
    }
    let page = html.to_lowercase();
    for never in [
        "fraction of frames",
        "per frame",
        "items (frames)",
        "active streams",
        "search over stream counts",
    ] {
        assert!(!page.contains(never), "`{never}` in report.html");
    }
    let mut charts = 0;
    for entry in std::fs::read_dir(&out).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "svg") {
            charts += 1;
            let svg = std::fs::read_to_string(&p).unwrap().to_lowercase();
            for never in ["frame", "stream"] {
                assert!(!svg.contains(never), "`{never}` in {}", p.display());
            }
        }
    }
    assert!(charts >= 3, "{charts} charts");

    let streams = dir.path().join("streams");
    ok(&[
        "run",
        "scenarios/low-traffic.toml",
        "--no-onset",
        "--out",
        streams.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(streams.join("report.html")).unwrap();
    for want in [
        "Fraction of frames answered",
        "latency per frame (ms, log scale)",
        "serves its offered items (frames)",
        "Active streams",
    ] {
        assert!(
            html.contains(want),
            "`{want}` missing from the stream report"
        );
    }
}
