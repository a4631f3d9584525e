//! CPU cost of `parse_record` per alert, for measuring under `perf stat -e task-clock` on a
//! shared machine where wall-clock benches are skewed by other load:
//!
//! ```text
//! cargo build --release -p corral-formats --example parse_cost
//! perf stat -e task-clock target/release/examples/parse_cost native 1000000
//! ```
//! task-clock ÷ alerts = CPU time per alert (generation of the input is included and small).

use corral_formats::{parse_record, Format};

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "native".into());
    let total: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let format = match Format::from_name(&name) {
        Ok(Some(f @ (Format::Native | Format::Alertmanager))) => f,
        _ => {
            eprintln!("usage: parse_cost native|alertmanager [ALERTS]");
            std::process::exit(2);
        }
    };
    let lines: Vec<String> = (0..10_000)
        .map(|i| match format {
            Format::Native => format!(
                r#"{{"source":"zabbix","name":"HighCpuLoad","status":"firing","severity":"warning","resource":"web-{:05}","service":"checkout","labels":{{"dc":"par1","env":"prod","team":"web"}},"starts_at":"2026-11-25T02:{:02}:{:02}Z"}}"#,
                i % 5000,
                (i / 60) % 60,
                i % 60
            ),
            _ => {
                let alerts: Vec<String> = (0..10)
                    .map(|j| format!(
                        r#"{{"status":"firing","labels":{{"alertname":"NodeDown","instance":"node-{:05}:9100","job":"node","severity":"critical"}},"annotations":{{"summary":"node down"}},"startsAt":"2026-11-25T02:11:07.123Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph","fingerprint":"{:016x}"}}"#,
                        i * 10 + j, i * 10 + j
                    ))
                    .collect();
                format!(r#"{{"version":"4","status":"firing","receiver":"corral","alerts":[{}]}}"#, alerts.join(","))
            }
        })
        .collect();
    let mut out = Vec::with_capacity(16);
    let mut alerts = 0usize;
    'outer: loop {
        for l in &lines {
            out.clear();
            if let Err(e) = parse_record(&format, l.as_bytes(), &mut out) {
                eprintln!("{e}");
                std::process::exit(1);
            }
            alerts += out.len();
            if alerts >= total {
                break 'outer;
            }
        }
    }
    println!("{alerts} alerts");
}
