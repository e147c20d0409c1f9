//! `vanillanet bench`: inference latency (fused and unfused) and training throughput, on random
//! weights and images.

use vanillanet::model::presets::named_model;
use vanillanet::{Result, bench};

use crate::args::BenchArgs;
use crate::context::{Context, write_json};

pub fn run(args: BenchArgs, context: &Context) -> Result<()> {
    let BenchArgs { models, batches, runs, warmup, train_preset, train_batch, train_steps, breakdown, json } = args;
    // Names, sizes, batches and runs are within the bench's limits already (`args.rs`).
    let cases: Vec<_> =
        models.iter().map(|m| Ok((m.name.clone(), (named_model(&m.name)?.config)(), m.size))).collect::<Result<_>>()?;
    // Every case within its bound before the first is timed, not after minutes of others.
    for (_, config, size) in &cases {
        for &batch in &batches {
            bench::check_case(config, *size, *size, batch)?;
        }
    }
    let device = context.device()?;
    let (backend_name, threads) = (context.backend_name(), context.threads);
    println!(
        "backend {backend_name}, {threads} CPU thread{}, {runs} timed runs after {warmup} warm-up, readback included",
        if threads == 1 { "" } else { "s" }
    );
    println!("{:<22} {:>5} {:>8} {:>10} {:>10} {:>10}", "model", "batch", "form", "cold ms", "median ms", "p90 ms");
    let mut latencies = Vec::new();
    for (name, config, size) in &cases {
        for &batch in &batches {
            for fused in [false, true] {
                let case = bench::Case { name, config, size: *size, batch, fused };
                let l = pollster::block_on(bench::latency(case, runs, warmup, &device))?;
                println!(
                    "{:<22} {:>5} {:>8} {:>10.2} {:>10.2} {:>10.2}",
                    format!("{name} {size}x{size}"),
                    batch,
                    if fused { "fused" } else { "unfused" },
                    l.cold_ms,
                    l.median_ms,
                    l.p90_ms
                );
                latencies.push(l);
            }
            let pair: Vec<_> = latencies.iter().rev().take(2).collect();
            println!(
                "{:<22} {:>5} {:>8} {:>10} {:>9.2}x",
                "",
                "",
                "speed-up",
                "",
                pair[1].median_ms / pair[0].median_ms
            );
        }
    }
    let mut breakdowns = Vec::new();
    for (name, config, size) in cases.iter().filter(|_| breakdown) {
        for &batch in &batches {
            let case = bench::Case { name, config, size: *size, batch, fused: true };
            let b = pollster::block_on(bench::breakdown(case, runs, warmup, &device))?;
            println!(
                "{name} {size}x{size} batch {batch}, fused: {:.2} ms in all; round trip {:.2} ms, hand-over {:.2} ms; own ms: {}",
                b.total_ms,
                b.round_trip_ms,
                b.enqueue_ms,
                b.parts.iter().map(|p| format!("{} {:.2}", p.name, p.own_ms)).collect::<Vec<_>>().join(", ")
            );
            breakdowns.push(b);
        }
    }
    // On images of the size and channels the preset is made for.
    let t = pollster::block_on(bench::training(&train_preset, train_batch, train_steps, &device))?;
    println!("training {} batch {}: {:.0} images/s over {} steps", t.preset, t.batch, t.images_per_sec, t.steps);
    if let Some(path) = json {
        let out = serde_json::json!({ "backend": backend_name, "threads": threads, "latency": latencies, "training": t, "breakdown": breakdowns });
        write_json(&path, &out)?;
    }
    Ok(())
}
