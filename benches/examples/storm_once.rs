//! One pass of the bench storm through the engine, printing throughput and state size: a quick
//! check between criterion runs (`cargo run --release -p corral-benches --example storm_once`).

use corral_benches::{storm, topology};
use corral_core::{Engine, TopologyIndex};
use std::sync::Arc;

// The same allocator as the `corral` binary, so the figures match what users run.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let topo = topology(10_000);
    let index = Arc::new(TopologyIndex::build(&topo));
    let rules = corral_benches::default_rules();
    let alerts = storm(&topo, n, 42);
    let mut e = Engine::new(rules, index);
    let mut out = Vec::new();
    let mut updates = 0;
    let start = Instant::now();
    for a in alerts {
        e.ingest(a, &mut out);
        updates += out.len();
        out.clear();
    }
    e.finish(&mut out);
    updates += out.len();
    let secs = start.elapsed().as_secs_f64();
    let s = e.stats();
    println!(
        "{n} alerts in {secs:.3}s = {:.0}/s; unique {} incidents {} merged {} updates {updates} tracked {}",
        n as f64 / secs,
        s.alerts,
        s.incidents_opened,
        s.incidents_merged,
        e.tracked_alerts()
    );
}
