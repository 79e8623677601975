//! Kernel benchmarks (divan): each detector over 1080p and 720p luma, against a plain
//! sum over the same buffer (the memory-bandwidth reference), and the converter steps.
//! Run with `cargo bench --bench kernels`. Target: every video detector at ≥ 50% of
//! the sum's bytes per second on one core.

use std::sync::OnceLock;

use archsim::frames::generate::{GenerateSpec, Generator};
use archsim::frames::h264::{H264Decoder, H264Encoder};
use archsim::frames::{Frame, FrameSize};
use archsim::kernels::convert::{JpegCodec, Scaler};
use archsim::kernels::detect::{
    black_stats, block_stats, flash_means, freeze_stats, plain_sum, sum_squares, BlockScratch,
    DetectorParams,
};
use divan::counter::BytesCount;
use divan::{black_box, Bencher};

fn main() {
    divan::main();
}

const SIZES: [FrameSize; 2] = [FrameSize::new(1920, 1080), FrameSize::new(1280, 720)];

/// Two consecutive frames of a sample stream (and an H.264 stream of 10 frames) per size.
struct Sample {
    a: Frame,
    b: Frame,
    stream: Vec<u8>,
}

fn sample(size: FrameSize) -> &'static Sample {
    static CELLS: [OnceLock<Sample>; 2] = [OnceLock::new(), OnceLock::new()];
    let i = SIZES.iter().position(|s| *s == size).unwrap_or(0);
    CELLS[i].get_or_init(|| {
        let spec = GenerateSpec::new("astronaut", size, 25.0, 0.4);
        let mut g = Generator::new(&spec).expect("sample stream");
        let mut enc = H264Encoder::new(size, 25.0).expect("encoder");
        let mut stream = Vec::new();
        let mut frames = Vec::new();
        let mut f = Frame::new(size);
        while g.next_frame(&mut f) {
            enc.encode(&f, &mut stream).expect("encode");
            frames.push(f.clone());
        }
        Sample {
            a: frames[4].clone(),
            b: frames[5].clone(),
            stream,
        }
    })
}

fn luma(size: FrameSize) -> BytesCount {
    BytesCount::new(size.pixels())
}

#[divan::bench(args = SIZES)]
fn sum_reference(b: Bencher, size: FrameSize) {
    let s = sample(size);
    b.counter(luma(size)).bench(|| plain_sum(black_box(&s.b.y)));
}

#[divan::bench(args = SIZES)]
fn black(b: Bencher, size: FrameSize) {
    let s = sample(size);
    b.counter(luma(size))
        .bench(|| black_stats(black_box(&s.b.y), 32));
}

#[divan::bench(args = SIZES)]
fn freeze(b: Bencher, size: FrameSize) {
    let s = sample(size);
    b.counter(luma(size))
        .bench(|| freeze_stats(black_box(&s.b.y), black_box(&s.a.y)));
}

#[divan::bench(args = SIZES)]
fn block_corruption(b: Bencher, size: FrameSize) {
    let s = sample(size);
    let p = DetectorParams::default();
    let mut scratch = BlockScratch::new(size, p.block_size);
    b.counter(luma(size)).bench_local(|| {
        block_stats(
            black_box(&s.b.y),
            size.width as usize,
            &mut scratch,
            p.block_edge_ratio,
            p.block_texture_floor,
        )
    });
}

#[divan::bench(args = SIZES)]
fn av_sync_flash(b: Bencher, size: FrameSize) {
    let s = sample(size);
    b.bench(|| flash_means(black_box(&s.b.y), size));
}

#[divan::bench]
fn silence_rms_one_frame_of_audio(b: Bencher) {
    let audio: Vec<i16> = (0..1920).map(|i| ((i * 37) % 2000) as i16 - 1000).collect();
    b.counter(BytesCount::new(audio.len() * 2))
        .bench(|| sum_squares(black_box(&audio)));
}

#[divan::bench(args = SIZES, sample_count = 30)]
fn scale(b: Bencher, size: FrameSize) {
    let s = sample(size);
    let mut scaler = Scaler::new();
    let mut out = Frame::new(size);
    b.counter(luma(size))
        .bench_local(|| scaler.scale(black_box(&s.b), size, &mut out));
}

#[divan::bench(args = SIZES, sample_count = 20)]
fn jpeg_encode(b: Bencher, size: FrameSize) {
    let s = sample(size);
    let mut codec = JpegCodec::default();
    b.counter(luma(size)).bench_local(|| {
        codec
            .encode(black_box(&s.b))
            .map(|bytes| bytes.len())
            .unwrap_or(0)
    });
}

#[divan::bench(args = SIZES, sample_count = 20)]
fn jpeg_decode(b: Bencher, size: FrameSize) {
    let s = sample(size);
    let mut codec = JpegCodec::default();
    let bytes = codec.encode(&s.b).expect("encode").to_vec();
    let mut out = Frame::new(size);
    b.counter(luma(size))
        .bench_local(|| codec.decode(black_box(&bytes), &mut out).is_ok());
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn h264_decode_10_frames(b: Bencher, size: FrameSize) {
    let s = sample(size);
    b.counter(BytesCount::new(size.pixels() * 10))
        .bench_local(|| {
            let mut dec = H264Decoder::new("bench").expect("decoder");
            dec.decode_stream(black_box(&s.stream), |_| Ok(()))
                .unwrap_or(0)
        });
}
