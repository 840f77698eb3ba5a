//! The cost of the work a webhook does before any I/O: verifying a signature and parsing the seed order
//! (`cargo bench -p orderbridge --bench wire`).

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use orderbridge::channels::genstore::{self, signature};
use orderbridge::secrets::Secret;

const SEED_ORDER: &[u8] = include_bytes!("../tests/fixtures/genstore/order-seed-001.json");

fn bench(c: &mut Criterion) {
    let secrets = [
        Secret::new("current-webhook-secret"),
        Secret::new("previous-webhook-secret"),
    ];
    let order_body = genstore::parse_order_envelope(SEED_ORDER)
        .map(|o| serde_json::to_vec(&o).unwrap())
        .unwrap();
    let sig_first = signature::sign(&order_body, &secrets[0]);
    let sig_second = signature::sign(&order_body, &secrets[1]);

    let mut g = c.benchmark_group("webhook");
    g.throughput(Throughput::Bytes(order_body.len() as u64));
    for (name, sig) in [
        ("verify signature (current secret)", &sig_first),
        ("verify signature (rotated-out secret)", &sig_second),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| signature::verify(black_box(&order_body), Some(black_box(sig)), &secrets))
        });
    }
    g.bench_function("parse seed 001 order", |b| {
        b.iter(|| genstore::parse_order_envelope(black_box(SEED_ORDER)).unwrap())
    });
    g.bench_function("parse + map seed 001 order", |b| {
        b.iter(|| {
            let o = genstore::parse_order_envelope(black_box(SEED_ORDER)).unwrap();
            genstore::to_channel_order(&o).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
