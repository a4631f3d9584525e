//! Every input format against arbitrary bytes: the first byte picks the format, the rest is
//! the record, decoded both as one record and as a stream. Nothing may panic, and the stream's
//! counts must match what it delivered.
#![no_main]

use corral_formats::{decode_stream, parse_record, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, record)) = data.split_first() else {
        return;
    };
    let names = Format::NAMES;
    let name = names[usize::from(selector) % names.len()];
    let Ok(Some(format)) = Format::from_name(name) else {
        return;
    };
    let mut out = Vec::new();
    let _ = parse_record(&format, record, &mut out);
    let (mut alerts, mut dead) = (0u64, 0u64);
    let stats = decode_stream(&format, record, |_| alerts += 1, |_| dead += 1)
        .expect("reading memory cannot fail");
    assert_eq!(stats.alerts, alerts);
    assert_eq!(stats.dead_letters, dead);
});
