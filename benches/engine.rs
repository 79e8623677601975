//! Engine micro-benchmarks (divan): the event queue, the token bucket, the
//! histogram and the whole M/M/c model of `archsim validate`.
//! Run: cargo bench --bench engine

use archsim::sim::mmc::{simulate, QueueModel, Service};
use archsim::sim::{millis, rng_stream, EventQueue, Histogram, TokenBucket};

fn main() {
    divan::main();
}

/// The M/M/4, ρ = 0.8 queue; items are model events (2 per customer).
#[divan::bench(args = [10_000, 100_000])]
fn mmc_customers(bencher: divan::Bencher, customers: u64) {
    let model = QueueModel {
        arrival_rate: 3200.0,
        service_mean: millis(1),
        servers: 4,
        service: Service::Exponential,
        loss: false,
    };
    bencher
        .counter(divan::counter::ItemsCount::new(2 * customers))
        .bench(|| {
            let mut rng = rng_stream(1, "bench", 0);
            divan::black_box(simulate(&model, customers, 0, &mut rng).events)
        });
}

#[divan::bench]
fn event_queue_push_pop_10k(bencher: divan::Bencher) {
    bencher
        .counter(divan::counter::ItemsCount::new(10_000u64))
        .bench(|| {
            let mut q = EventQueue::new();
            let mut t = 0u64;
            for i in 0..1000u64 {
                q.push(i * 7 % 1000, i);
            }
            for i in 0..9000u64 {
                let (now, e) = q.pop().unwrap();
                t = t.wrapping_add(e);
                q.push(now + (i * 7919) % 1000, i);
            }
            divan::black_box(t)
        });
}

#[divan::bench]
fn token_bucket_take_10k(bencher: divan::Bencher) {
    bencher
        .counter(divan::counter::ItemsCount::new(10_000u64))
        .bench(|| {
            let mut b = TokenBucket::new(5000, 1500.0, 0);
            let mut last = 0;
            for i in 0..10_000u64 {
                last = b.take(i * 100_000);
            }
            divan::black_box(last)
        });
}

#[divan::bench]
fn histogram_record_10k(bencher: divan::Bencher) {
    bencher
        .counter(divan::counter::ItemsCount::new(10_000u64))
        .bench(|| {
            let mut h = Histogram::new();
            for i in 0..10_000u64 {
                h.record(i.wrapping_mul(2_654_435_761) % 1_000_000_000);
            }
            divan::black_box(h.quantile(0.99))
        });
}

/// Lambda invocations on a warm pool (lazy release, keep-alive bookkeeping).
#[divan::bench]
fn lambda_invoke_10k(bencher: divan::Bencher) {
    use archsim::cloud::{AccountConfig, LambdaAccount, LambdaConfig};
    let catalog = archsim::pricing::Catalog::builtin();
    bencher
        .counter(divan::counter::ItemsCount::new(10_000u64))
        .bench(|| {
            let mut a = LambdaAccount::new(&catalog, &AccountConfig::default());
            let f = a.add_function(LambdaConfig::default()).unwrap();
            let mut rng = rng_stream(1, "bench", 1);
            let mut ok = 0u64;
            for i in 0..10_000u64 {
                if a.invoke(f, i * 100_000, 5_000_000, 0, &mut rng).is_ok() {
                    ok += 1;
                }
            }
            divan::black_box(ok)
        });
}
