//! The native line scanner alone, on the replay bench's storm: `decode_stream_to` into a sink
//! that takes every record by its head (so no alert is built and no engine runs) and counts
//! what it saw. Prints the CPU time of each pass; a target for callgrind when only the decoding
//! side changes.
//!
//! ```text
//! cargo run --release -p corral-benches --example scan_once [ALERTS] [PASSES]
//! ```

use corral_benches::{storm, to_ndjson, topology, ThreadCpuTime};
use corral_core::{Alert, AlertHead};
use corral_formats::{decode_stream_to, DeadLetter, Format, Sink};

// The same allocator as the `corral` binary, so the figures match what users run.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Takes every head; sums a few of its fields so that reading them is not optimised away.
#[derive(Default)]
struct Heads {
    heads: u64,
    alerts: u64,
    dead: u64,
    checksum: i64,
}

impl Sink for Heads {
    fn repeat(&mut self, head: &AlertHead<'_>) -> bool {
        self.heads += 1;
        self.checksum = self
            .checksum
            .wrapping_add(head.starts_at)
            .wrapping_add(head.fingerprint.len() as i64)
            .wrapping_add(head.service.map_or(0, |s| s.len() as i64));
        true
    }

    fn alert(&mut self, _alert: Alert) {
        self.alerts += 1;
    }

    fn dead(&mut self, _dead: DeadLetter) {
        self.dead += 1;
    }
}

/// Only the decode pass is timed (and, under callgrind, collected: `--toggle-collect=scan_once::scan`).
#[inline(never)]
fn scan(input: &[u8]) -> Heads {
    let mut sink = Heads::default();
    decode_stream_to(&Format::Native, input, &mut sink).expect("reading memory does not fail");
    sink
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let passes: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    let topo = topology(10_000);
    let input = to_ndjson(&storm(&topo, n, 42));
    for _ in 0..passes {
        let started = ThreadCpuTime::now_ns();
        let sink = std::hint::black_box(scan(std::hint::black_box(&input)));
        let cpu = (ThreadCpuTime::now_ns() - started) as f64 / 1e9;
        println!(
            "native scan: {} heads, {} alerts, {} dead, checksum {} in {cpu:.3} s CPU = {:.0}/s",
            sink.heads,
            sink.alerts,
            sink.dead,
            sink.checksum,
            n as f64 / cpu
        );
    }
}
