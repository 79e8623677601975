//! Accuracy of the detectors on generated clips: every photo, 640x360 and 1280x720,
//! raw and after an H.264 round trip. Every injected defect must be found (start
//! within one frame, or 10 ms for audio) and nothing else: the clean stretches between
//! defects are the false-positive check. Default thresholds only.

use archsim::frames::generate::{audio_range, GenerateSpec, Generator, PHOTOS};
use archsim::frames::h264::{H264Decoder, H264Encoder};
use archsim::frames::{Defect, DefectKind, Frame, FrameSize};
use archsim::kernels::{DetectorBank, DetectorParams, Kernel};

const DEFECTS: &str = "black@8..12,freeze@28..40,blocks@45,silence@0.62s..0.93s,avsync=+120ms@1s..";
const SECONDS: f64 = 2.4;

/// Detects defects in the generated clip, raw and through H.264, streaming.
fn run(photo: &str, size: FrameSize, defects: &str) -> (Vec<Defect>, Vec<Defect>, Vec<Defect>) {
    let mut spec = GenerateSpec::new(photo, size, 25.0, SECONDS).with_defects(defects);
    spec.seed = 7;
    let mut g = Generator::new(&spec).unwrap();
    let audio = g.audio().to_vec();
    let params = DetectorParams::default();
    let mut raw = DetectorBank::new(&Kernel::DETECTORS, 25.0, size, &params);
    let mut enc = H264Encoder::new(size, 25.0).unwrap();
    let mut stream = Vec::new();
    let mut frame = Frame::new(size);
    let mut i = 0;
    while g.next_frame(&mut frame) {
        raw.push(&frame, &audio[audio_range(i, 25.0, audio.len())]);
        enc.encode(&frame, &mut stream).unwrap();
        i += 1;
    }
    let mut h = DetectorBank::new(&Kernel::DETECTORS, 25.0, size, &params);
    let mut j = 0;
    H264Decoder::new("round trip")
        .unwrap()
        .decode_stream(&stream, |f| {
            h.push(f, &audio[audio_range(j, 25.0, audio.len())]);
            j += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(j, i, "H.264 round trip keeps every frame");
    (g.truth().to_vec(), raw.finish(), h.finish())
}

fn matches(truth: &[Defect], found: &[Defect]) -> Result<(), String> {
    if truth.len() != found.len() {
        return Err(format!(
            "expected {} defects, found {}",
            truth.len(),
            found.len()
        ));
    }
    for (t, f) in truth.iter().zip(found) {
        let ok = t.kind == f.kind
            && if t.kind == DefectKind::Silence {
                (t.start_s - f.start_s).abs() <= 0.010 && (t.end_s - f.end_s).abs() <= 0.010
            } else {
                t.start_frame.abs_diff(f.start_frame) <= 1 && t.end_frame.abs_diff(f.end_frame) <= 1
            };
        if !ok {
            return Err(format!("expected {t:?}, found {f:?}"));
        }
        if t.kind == DefectKind::AvSync && (t.score - f.score).abs() > 2.0 {
            return Err(format!(
                "offset: expected {} ms, found {} ms",
                t.score, f.score
            ));
        }
    }
    Ok(())
}

fn check(size: FrameSize) {
    let mut failures = Vec::new();
    for photo in PHOTOS {
        let (truth, raw, h264) = run(photo, size, DEFECTS);
        assert_eq!(truth.len(), 5, "{photo}: every defect is injected");
        for (label, found) in [("raw", &raw), ("h264", &h264)] {
            if let Err(e) = matches(&truth, found) {
                failures.push(format!(
                    "{photo} {size} {label}: {e}\n  truth {truth:?}\n  found {found:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_defect_found_at_640x360_raw_and_h264() {
    check(FrameSize::new(640, 360));
}

#[test]
fn every_defect_found_at_1280x720_raw_and_h264() {
    check(FrameSize::new(1280, 720));
}

#[test]
fn clean_clips_have_no_defects() {
    for photo in PHOTOS {
        let (truth, raw, h264) = run(photo, FrameSize::new(640, 360), "");
        assert!(truth.is_empty());
        assert!(raw.is_empty(), "{photo} raw: {raw:?}");
        assert!(h264.is_empty(), "{photo} h264: {h264:?}");
    }
}

#[test]
fn clean_clips_have_no_defects_at_1280x720() {
    // The sharpest and the flattest photo.
    for photo in ["astronaut", "rocket"] {
        let (truth, raw, h264) = run(photo, FrameSize::new(1280, 720), "");
        assert!(truth.is_empty());
        assert!(raw.is_empty(), "{photo} raw: {raw:?}");
        assert!(h264.is_empty(), "{photo} h264: {h264:?}");
    }
}
