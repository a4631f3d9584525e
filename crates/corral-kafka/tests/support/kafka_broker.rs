//! The Kafka broker of the integration tests, shared by the test crates that need one (included
//! with `#[path]`, since test crates cannot depend on each other).
//!
//! A test that needs a broker never passes without one: the address is `CORRAL_KAFKA_BOOTSTRAP`
//! when it is set (`scripts/test-all.sh` sets it), otherwise the broker `scripts/kafka.sh start`
//! brings up (idempotent: it reuses a running one; port `CORRAL_KAFKA_PORT`, default 19092). If
//! that fails, the test fails with the script's own explanation.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The bootstrap address of a running broker, starting one on first use if needed.
pub fn bootstrap() -> String {
    static ADDRESS: OnceLock<Result<String, String>> = OnceLock::new();
    match ADDRESS.get_or_init(find_or_start) {
        Ok(address) => address.clone(),
        Err(why) => panic!("{why}"),
    }
}

fn find_or_start() -> Result<String, String> {
    if let Some(address) = std::env::var("CORRAL_KAFKA_BOOTSTRAP")
        .ok()
        .filter(|a| !a.trim().is_empty())
    {
        return Ok(address);
    }
    // Both including crates sit at crates/<name>, so the script is two levels up.
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/kafka.sh");
    eprintln!(
        "CORRAL_KAFKA_BOOTSTRAP is not set: starting the test broker with {} start \
         (it keeps running; stop it with `scripts/kafka.sh stop`)",
        script.display()
    );
    let out = Command::new("bash")
        .arg(&script)
        .arg("start")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // On success the script prints the bootstrap address as its last line of stdout.
    let address = stdout
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string);
    match address {
        Some(address) if out.status.success() => Ok(address),
        _ => Err(format!(
            "these tests need a Kafka broker: CORRAL_KAFKA_BOOTSTRAP is not set and \
             `{} start` failed ({}).\nIts output:\n{stdout}{stderr}\n\
             Install a JDK 17+ and Maven (scripts/test-all.sh does), or point \
             CORRAL_KAFKA_BOOTSTRAP at a running broker.",
            script.display(),
            out.status
        )),
    }
}
