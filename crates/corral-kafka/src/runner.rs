//! Wiring of the whole service: topics, HTTP server, signals, repartitioner, correlator.

use crate::config::{Partitioning, ServiceConfig};
use crate::http::{self, HttpState};
use crate::repartition::run_repartitioner;
use crate::service::{ensure_topics, run_correlator, Control, RunOptions, RunSummary};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// What to run besides the HTTP endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `corral run`: correlate (and accept ingest when a producer is configured).
    Service,
    /// `corral ingest`: only forward `POST /ingest/<format>` to the input topic.
    IngestOnly,
}

/// Runs until SIGTERM/SIGINT (or `control.request_shutdown()`), then drains and commits.
/// `ready` is called with the HTTP address once it listens (tests and the harness use it).
pub fn run_service(
    cfg: ServiceConfig,
    control: Arc<Control>,
    opts: RunOptions,
    mode: Mode,
    install_signals: bool,
) -> anyhow::Result<RunSummary> {
    let cfg = Arc::new(cfg);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .thread_name("corral-http")
        .build()?;
    ensure_topics(&cfg, &rt)?;
    let token = http::load_token(&cfg)?;
    let ingest = Some(http::ingest_producer(&cfg)?);
    let addr: SocketAddr = cfg.http.listen.parse()?;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(addr))
        .map_err(|e| anyhow::anyhow!("http.listen {addr}: {e}"))?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, "HTTP listening (/metrics, /healthz, /readyz, /-/reload, /ingest/<format>)");
    if install_signals {
        http::spawn_signal_handlers(&rt, control.clone())?;
    }
    let state = HttpState {
        control: control.clone(),
        token,
        ingest,
    };
    let server = rt.spawn(http::serve(listener, state, cfg.http.max_body_bytes));

    let result = match mode {
        Mode::IngestOnly => {
            control
                .ready
                .store(true, std::sync::atomic::Ordering::SeqCst);
            while !control.is_shutdown() {
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(RunSummary::default())
        }
        Mode::Service => {
            let repartitioner = (cfg.input.partitioning == Partitioning::Repartition).then(|| {
                let (c, k) = (cfg.clone(), control.clone());
                std::thread::Builder::new()
                    .name("corral-repartition".into())
                    .spawn(move || run_repartitioner(c, k))
            });
            let r = run_correlator(cfg.clone(), control.clone(), &opts);
            control.request_shutdown();
            if let Some(Ok(h)) = repartitioner {
                match h.join() {
                    Ok(Err(e)) => tracing::error!(error = %e, "repartitioner failed"),
                    Err(_) => tracing::error!("repartitioner panicked"),
                    Ok(Ok(())) => {}
                }
            }
            r
        }
    };
    control.request_shutdown();
    let _ = rt.block_on(async { tokio::time::timeout(Duration::from_secs(5), server).await });
    rt.shutdown_timeout(Duration::from_secs(2));
    result
}

/// A loader that reads one rules file (or none: the core's fallback grouping) and a topology
/// file. The `corral` binary has its own, which also knows the shipped default rules.
pub fn file_loader(
    rules: Option<std::path::PathBuf>,
    topology: Option<std::path::PathBuf>,
) -> crate::Loader {
    use corral_core::{ConfigError, RuleSet, TopologyFile, TopologyIndex};
    Arc::new(move || {
        let read = |p: &std::path::Path| {
            std::fs::read_to_string(p).map_err(|e| {
                vec![ConfigError {
                    file: p.display().to_string(),
                    line: None,
                    message: format!("cannot read: {e}"),
                }]
            })
        };
        let rules = match &rules {
            Some(p) => RuleSet::from_sources(&[(p.display().to_string(), read(p)?)])?,
            None => RuleSet::from_sources(&[])?,
        };
        let file = match &topology {
            Some(p) => TopologyFile::parse(&read(p)?, &p.display().to_string())?,
            None => TopologyFile::default(),
        };
        Ok(crate::Loaded {
            rules: Arc::new(rules),
            topology: Arc::new(TopologyIndex::build(&file)),
            domains: Arc::new(crate::domain::DomainMap::build(&file)),
            anomaly: None,
        })
    })
}
