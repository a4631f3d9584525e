//! The replay bench's pipeline (decode → correlate → encode, one thread) run a few times over the
//! 1M-alert storm, printing the CPU time of each pass: a quick check between criterion runs and
//! a target for `perf record` / callgrind.
//!
//! ```text
//! cargo run --release -p corral-benches --example replay_once [native|alertmanager] [ALERTS] [PASSES]
//! ```

use corral_benches::{replay, storm, to_alertmanager, to_ndjson, topology, ThreadCpuTime};
use corral_core::TopologyIndex;
use corral_formats::Format;
use std::sync::Arc;

// The same allocator as the `corral` binary, so the figures match what users run.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let format = match args.next().as_deref() {
        Some("alertmanager") => Format::Alertmanager,
        _ => Format::Native,
    };
    let n: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let passes: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    let topo = topology(10_000);
    let index = Arc::new(TopologyIndex::build(&topo));
    let rules = corral_benches::default_rules();
    let alerts = storm(&topo, n, 42);
    let input = match format {
        Format::Alertmanager => to_alertmanager(&alerts, 10),
        _ => to_ndjson(&alerts),
    };
    drop(alerts);
    for _ in 0..passes {
        let started = ThreadCpuTime::now_ns();
        let (decoded, updates, bytes) = replay(&format, &input, &rules, &index);
        let cpu = (ThreadCpuTime::now_ns() - started) as f64 / 1e9;
        println!(
            "{format}: {decoded} alerts in {cpu:.3} s CPU = {:.0}/s; {updates} updates, {bytes} output bytes",
            decoded as f64 / cpu
        );
    }
}
