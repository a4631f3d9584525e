use corral_formats::{parse_record, Format};
fn main() {
    let fmt = std::env::args().nth(1).unwrap_or("native".into());
    let format = Format::from_name(&fmt).unwrap().unwrap();
    let lines: Vec<String> = (0..10_000).map(|i| if fmt == "native" { format!(
                r#"{{"source":"zabbix","name":"HighCpuLoad","status":"firing","severity":"warning","resource":"web-{:05}","service":"checkout","labels":{{"dc":"par1","env":"prod","team":"web"}},"starts_at":"2026-11-25T02:{:02}:{:02}Z"}}"#,
                i % 5000, (i / 60) % 60, i % 60) } else { format!(r#"{{"version":"4","groupKey":"{{}}:{{alertname=\"NodeDown\"}}","status":"firing","receiver":"corral","groupLabels":{{"alertname":"NodeDown"}},"commonLabels":{{}},"commonAnnotations":{{}},"externalURL":"http://am:9093","alerts":[{{"status":"firing","labels":{{"alertname":"NodeDown","instance":"node-{i:05}:9100","job":"node","severity":"critical"}},"annotations":{{"summary":"node down"}},"startsAt":"2026-11-25T02:11:07.123Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph?g0.expr=up","fingerprint":"{i:016x}"}}]}}"#) }).collect();
    let mut out = Vec::new();
    let mut n = 0u64;
    for _ in 0..100 {
        for l in &lines {
            out.clear();
            parse_record(&format, l.as_bytes(), &mut out).unwrap();
            n += out.len() as u64;
        }
    }
    println!("{n}");
}
