//! The ALEC sample data (../shared/data/alec-samples): alarms decode to one alert per event, and
//! every alarm's inventory object resolves in the topology imported from the same snapshot.

use corral_core::{TopologyFile, TopologyIndex};
use corral_formats::topology_import::{import, to_yaml, ImportFormat};
use corral_formats::{decode_stream, detect, Format};
use std::path::Path;

const DATA: &str = "/work/shared/data/alec-samples";

fn check(dir: &str, alarms: &str, inventory: &str, events: usize) {
    let base = Path::new(DATA).join(dir);
    let alarms_text = std::fs::read(base.join(alarms)).unwrap();
    assert_eq!(detect(&alarms_text), Ok(Format::Alec));
    let inventory_text = std::fs::read_to_string(base.join(inventory)).unwrap();
    let imported = import(ImportFormat::Alec, &[(inventory.into(), inventory_text)]).unwrap();
    let yaml = to_yaml(&imported.topology).unwrap();
    let topology = TopologyFile::parse(&yaml, "imported").unwrap();
    let index = TopologyIndex::build(&topology);
    let mut alerts = Vec::new();
    let stats = decode_stream(
        &Format::Alec,
        &alarms_text[..],
        |a| alerts.push(a),
        |d| panic!("{dir}: {d:?}"),
    )
    .unwrap();
    assert_eq!(stats.alerts as usize, events, "{dir}");
    for a in alerts
        .iter()
        .filter(|a| a.label("inventory_object") != Some("none"))
    {
        assert!(
            index.resolve(&a.resource).is_some(),
            "{dir}: alarm {} on {:?} is not in the imported inventory",
            a.fingerprint,
            a.resource
        );
    }
}

#[test]
fn sample_alarms_resolve_in_their_inventory() {
    check("sample", "sample.alarms.xml", "sample.inventory.xml", 18);
}

#[test]
fn snapshot_alarms_resolve_in_their_inventory() {
    check("snapshot", "alec.alarms.xml", "alec.inventory.xml", 11);
}
