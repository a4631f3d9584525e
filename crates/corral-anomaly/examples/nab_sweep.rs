//! Scores several detector configurations over the NAB corpus in one run (for tuning the one
//! default configuration for the whole corpus). Usage:
//! `cargo run --release -p corral-anomaly --example nab_sweep -- NAB_ROOT '{"suppress":100}' ...`
use corral_anomaly::nab::{self, NabCorpus};
use corral_anomaly::DetectorConfig;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = args
        .next()
        .ok_or("usage: nab_sweep NAB_ROOT [CONFIG_JSON...]")?;
    let corpus = NabCorpus::load(std::path::Path::new(&root))?;
    let mut configs: Vec<String> = args.collect();
    if configs.is_empty() {
        configs.push("{}".into());
    }
    let per_file = std::env::var_os("NAB_FILES").is_some();
    for text in configs {
        let config: DetectorConfig = serde_json::from_str(&text)?;
        let scores = nab::run_corpus(&config, &corpus);
        let r = nab::score_profiles(&corpus, &scores);
        println!(
            "std {:6.2} lowFP {:6.2} lowFN {:6.2} | tp {:3} fp {:4} thr {:.4} | {}",
            r[0].normalized,
            r[1].normalized,
            r[2].normalized,
            r[0].windows_detected,
            r[0].false_positive_rows,
            r[0].threshold,
            text
        );
        if std::env::var_os("NAB_SEASON").is_some() {
            for f in &corpus.files {
                let mut d = corral_anomaly::SeriesDetector::new();
                let mut on = 0;
                for (&t, &v) in f.timestamps.iter().zip(&f.values) {
                    d.score(&config, t * 1000, v);
                    on += d.seasonal() as usize;
                }
                println!(
                    "  {:<58} seasonal {:5.1}%",
                    f.key(),
                    100.0 * on as f64 / f.values.len() as f64
                );
            }
        }
        if std::env::var_os("NAB_DIAG").is_some() {
            diagnose(&corpus, &scores);
        }
        if per_file {
            for f in &r[0].files {
                println!(
                    "    {:<62} {:7.3} tp={} fn={} fp={}",
                    f.key, f.score, f.tp, f.fn_, f.fp
                );
            }
        }
    }
    Ok(())
}

/// Per window: best score inside and where; per file: best score outside windows.
#[allow(dead_code)]
pub fn diagnose(corpus: &NabCorpus, scores: &[Vec<f64>]) {
    for (f, s) in corpus.files.iter().zip(scores) {
        let probation = nab::probationary_length(s.len());
        let windows = f.window_rows();
        let mut inside = vec![false; s.len()];
        let mut text = String::new();
        for &(l, r) in &windows {
            inside[l..=r].fill(true);
            let (mut best, mut at) = (0.0, l);
            for (i, &v) in s.iter().enumerate().take(r + 1).skip(l.max(probation)) {
                if v > best {
                    best = v;
                    at = i;
                }
            }
            text.push_str(&format!(
                " w[{:.3}@{:.2}]",
                best,
                (at - l) as f64 / (r - l + 1) as f64
            ));
        }
        let mut outside: Vec<f64> = s
            .iter()
            .enumerate()
            .filter(|(i, _)| *i >= probation && !inside[*i])
            .map(|(_, v)| *v)
            .collect();
        outside.sort_by(|a, b| b.total_cmp(a));
        println!(
            "{:<58} out[{:.3} {:.3} {:.3}]{}",
            f.key(),
            outside.first().copied().unwrap_or(0.0),
            outside.get(2).copied().unwrap_or(0.0),
            outside.get(9).copied().unwrap_or(0.0),
            text
        );
    }
}
