//! The real binary: `frames generate` → `kernels detect` round trips (Y4M and H.264),
//! `kernels bench` writing a calibration, and input mistakes exiting with code 2.

use std::path::Path;
use std::process::{Command, Output};

use archsim::frames::{DefectKind, DefectReport};

fn archsim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("archsim runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn starts(r: &DefectReport) -> Vec<(DefectKind, u64)> {
    r.defects.iter().map(|d| (d.kind, d.start_frame)).collect()
}

#[test]
fn generate_then_detect_finds_exactly_the_injected_defects() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&archsim(
        &[
            "frames",
            "generate",
            "--photo",
            "chelsea",
            "--size",
            "320x180",
            "--fps",
            "25",
            "--seconds",
            "6",
            "--defects",
            "black@20..25,freeze@50..70,blocks@100,silence@3s..3.5s,avsync=-80ms@4s..",
            "--out",
            "clip",
            "--h264",
        ],
        d,
    ));
    for f in ["clip.y4m", "clip.wav", "clip.truth.json", "clip.h264"] {
        assert!(d.join(f).exists(), "{f}");
    }
    let truth: DefectReport =
        serde_json::from_str(&std::fs::read_to_string(d.join("clip.truth.json")).unwrap()).unwrap();
    assert_eq!((truth.frames, truth.fps), (150, 25.0));
    assert_eq!(truth.defects.len(), 5);

    let raw: DefectReport = serde_json::from_str(&ok(&archsim(
        &[
            "kernels", "detect", "clip.y4m", "--audio", "clip.wav", "--format", "json",
        ],
        d,
    )))
    .unwrap();
    assert_eq!(starts(&raw), starts(&truth), "raw: {raw:?}");
    assert_eq!(raw.frames, 150);

    let h264: DefectReport = serde_json::from_str(&ok(&archsim(
        &[
            "kernels",
            "detect",
            "clip.h264",
            "--audio",
            "clip.wav",
            "--fps",
            "25",
            "--format",
            "json",
        ],
        d,
    )))
    .unwrap();
    assert_eq!(h264.defects.len(), truth.defects.len(), "h264: {h264:?}");
    for (t, f) in truth.defects.iter().zip(&h264.defects) {
        assert_eq!(t.kind, f.kind);
        assert!(t.start_frame.abs_diff(f.start_frame) <= 1, "{t:?} vs {f:?}");
    }

    // Only some detectors, as a table.
    let table = ok(&archsim(
        &[
            "kernels",
            "detect",
            "clip.y4m",
            "--detectors",
            "black,freeze",
        ],
        d,
    ));
    assert!(
        table.contains("black") && table.contains("freeze") && !table.contains("silence"),
        "{table}"
    );
}

#[test]
fn bench_writes_a_loadable_calibration() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let table = ok(&archsim(
        &[
            "kernels", "bench", "--size", "160x96", "--frames", "8", "--warmup", "2", "--out",
            "cal.toml",
        ],
        d,
    ));
    for k in [
        "h264_decode",
        "jpeg_encode",
        "block_corruption",
        "sum (bandwidth reference)",
    ] {
        assert!(table.contains(k), "{k} missing from\n{table}");
    }
    let cal = archsim::kernels::Calibration::load(&d.join("cal.toml")).unwrap();
    assert_eq!(cal.sizes.len(), 1);
    assert_eq!(cal.sizes[0].jpeg_bytes.len(), 8);
}

#[test]
fn input_mistakes_exit_2_with_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("garbled.y4m"),
        b"YUV4MPEG2 W64 H64 F25:1 C420jpeg\nFRAME\nshort",
    )
    .unwrap();
    std::fs::write(d.join("junk.y4m"), b"not a video at all").unwrap();
    std::fs::write(d.join("junk.h264"), vec![7u8; 4096]).unwrap();
    std::fs::write(d.join("bad.toml"), "freeze_madd = 1\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["frames", "generate", "--size", "640x", "--out", "x"],
            "--size",
        ),
        (
            &[
                "frames",
                "generate",
                "--size",
                "640x360",
                "--defects",
                "black@4..8,frezee@9",
                "--out",
                "x",
            ],
            "--defects:1:12",
        ),
        (
            &[
                "frames",
                "generate",
                "--size",
                "320x180",
                "--seconds",
                "1",
                "--defects",
                "black@20..40",
                "--out",
                "x",
            ],
            "--defects",
        ),
        (
            &["frames", "generate", "--photo", "nope", "--out", "x"],
            "--photo",
        ),
        (&["kernels", "detect", "junk.y4m"], "junk.y4m"),
        (&["kernels", "detect", "junk.h264"], "junk.h264"),
        (&["kernels", "detect", "missing.y4m"], "missing.y4m"),
        (
            &["kernels", "detect", "garbled.y4m", "--detectors", "blak"],
            "did you mean `black`",
        ),
        (
            &["kernels", "detect", "garbled.y4m", "--params", "bad.toml"],
            "bad.toml:1:1",
        ),
        (
            &["kernels", "detect", "garbled.y4m", "--audio", "junk.y4m"],
            "junk.y4m",
        ),
        (&["kernels", "bench", "--size", "1x1"], "--size"),
    ];
    for (args, expect) in cases {
        let out = archsim(args, d);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(expect),
            "{args:?}: expected `{expect}` in {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // A truncated frame ends the stream: the frames before it are analysed.
    let out = archsim(&["kernels", "detect", "garbled.y4m", "--format", "json"], d);
    assert!(out.status.code() == Some(0) || out.status.code() == Some(2));
}
