//! The HTTP side of `corral run` and `corral ingest`: `/metrics`, `/healthz`, `/readyz`,
//! `POST /-/reload`, and `POST /ingest/<format>` that validates alerts and produces them to the
//! input topic keyed by topology domain.

use crate::config::ServiceConfig;
use crate::decode::Decoder;
use crate::service::Control;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct HttpState {
    pub control: Arc<Control>,
    pub token: Option<Arc<str>>,
    /// Present when ingest is enabled: the producer to the input topic.
    pub ingest: Option<Arc<Ingest>>,
}

pub struct Ingest {
    pub producer: FutureProducer,
    pub topic: String,
}

/// Reads the bearer token from the configured file or environment variable.
pub fn load_token(cfg: &ServiceConfig) -> anyhow::Result<Option<Arc<str>>> {
    let raw = if let Some(f) = &cfg.http.token_file {
        Some(
            std::fs::read_to_string(f)
                .map_err(|e| anyhow::anyhow!("http.token_file {}: {e}", f.display()))?,
        )
    } else if let Some(var) = &cfg.http.token_env {
        Some(
            std::env::var(var)
                .map_err(|_| anyhow::anyhow!("http.token_env: variable {var} is not set"))?,
        )
    } else {
        None
    };
    match raw.map(|t| t.trim().to_string()) {
        Some(t) if t.is_empty() => anyhow::bail!("the configured HTTP bearer token is empty"),
        Some(t) => Ok(Some(t.into())),
        None => Ok(None),
    }
}

pub fn ingest_producer(cfg: &ServiceConfig) -> anyhow::Result<Arc<Ingest>> {
    let mut c = rdkafka::ClientConfig::new();
    c.set("enable.idempotence", "true")
        .set("linger.ms", "1")
        // A request must not hang: when Kafka cannot take the record, answer 503 quickly.
        .set("message.timeout.ms", "5000");
    for (k, v) in cfg.producer_options() {
        c.set(k, v);
    }
    Ok(Arc::new(Ingest {
        producer: c.create()?,
        topic: cfg.kafka.topics.input.clone(),
    }))
}

pub fn router(state: HttpState, max_body: usize) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/-/reload", post(reload))
        .route("/ingest/{format}", post(ingest))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

async fn metrics(State(s): State<HttpState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.control.metrics.encode(),
    )
        .into_response()
}

async fn healthz(State(s): State<HttpState>) -> Response {
    if s.control.is_shutdown() {
        (StatusCode::SERVICE_UNAVAILABLE, "stopping\n").into_response()
    } else {
        (StatusCode::OK, "ok\n").into_response()
    }
}

async fn readyz(State(s): State<HttpState>) -> Response {
    if s.control.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: no partitions assigned or state not restored yet\n",
        )
            .into_response()
    }
}

/// Byte-wise comparison whose time does not depend on where the first difference is.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0xff);
        diff |= u64::from(x ^ y);
    }
    diff == 0
}

/// None when the request may go on, else the 401 to answer.
fn unauthorized(s: &HttpState, headers: &HeaderMap) -> Option<Response> {
    let Some(token) = &s.token else {
        return None;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if constant_time_eq(given.as_bytes(), token.as_bytes()) {
        None
    } else {
        Some(
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "missing or wrong bearer token\n",
            )
                .into_response(),
        )
    }
}

async fn reload(State(s): State<HttpState>, headers: HeaderMap) -> Response {
    if let Some(r) = unauthorized(&s, &headers) {
        return r;
    }
    let control = s.control.clone();
    match tokio::task::spawn_blocking(move || control.reload()).await {
        Ok(Ok(())) => (StatusCode::OK, "reloaded\n").into_response(),
        Ok(Err(errors)) => {
            let mut body =
                String::from("reload rejected; the running rules and topology stay in force:\n");
            for e in errors {
                body.push_str(&format!("{e}\n"));
            }
            (StatusCode::BAD_REQUEST, body).into_response()
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("reload failed: {e}\n"),
        )
            .into_response(),
    }
}

async fn ingest(
    State(s): State<HttpState>,
    Path(format): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(r) = unauthorized(&s, &headers) {
        return r;
    }
    let Some(ing) = &s.ingest else {
        return (
            StatusCode::NOT_FOUND,
            "ingest is not enabled on this server\n",
        )
            .into_response();
    };
    let decoder = match Decoder::new(&format) {
        Ok(d) => d,
        Err(e) => return (StatusCode::NOT_FOUND, format!("{e}\n")).into_response(),
    };
    let mut alerts = Vec::new();
    if let Err(e) = decoder.decode(Some(&body), &mut alerts) {
        s.control.metrics.dead_lettered(e.kind);
        return (
            StatusCode::BAD_REQUEST,
            format!("{}: {}\n", e.kind, e.message),
        )
            .into_response();
    }
    let domains = s.control.current().domains;
    let mut pending = Vec::with_capacity(alerts.len());
    for a in &alerts {
        let key = domains.domain_of(a);
        let payload = match serde_json::to_vec(a) {
            Ok(p) => p,
            Err(e) => {
                return (StatusCode::INTERNAL_SERVER_ERROR, format!("encode: {e}\n"))
                    .into_response()
            }
        };
        pending.push((key, payload));
    }
    for (key, payload) in &pending {
        let rec = FutureRecord::to(&ing.topic)
            .key(key.as_bytes())
            .payload(payload);
        if let Err((e, _)) = ing.producer.send(rec, Duration::from_secs(5)).await {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "5")],
                format!("Kafka did not take the record: {e}\n"),
            )
                .into_response();
        }
    }
    (
        StatusCode::ACCEPTED,
        format!("{{\"accepted\":{}}}\n", pending.len()),
    )
        .into_response()
}

/// Serves until shutdown; SIGHUP reloads, SIGTERM/SIGINT request a graceful stop.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: HttpState,
    max_body: usize,
) -> std::io::Result<()> {
    let control = state.control.clone();
    let app = router(state, max_body);
    let shutdown = async move {
        while !control.is_shutdown() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Installs SIGHUP (reload) and SIGTERM/SIGINT (graceful stop) handlers on the runtime.
pub fn spawn_signal_handlers(
    rt: &tokio::runtime::Runtime,
    control: Arc<Control>,
) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let _guard = rt.enter();
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let c = control.clone();
    rt.spawn(async move {
        while hup.recv().await.is_some() {
            let c2 = c.clone();
            let _ = tokio::task::spawn_blocking(move || c2.reload()).await;
        }
    });
    rt.spawn(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: draining and committing"),
            _ = int.recv() => tracing::info!("SIGINT: draining and committing"),
        }
        control.request_shutdown();
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_exactly() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }
}
