//! Alertmanager-style grouping in event time. Alerts with equal values of the `group_by` labels
//! (`alertname` is the alert's name; `...` groups by every label) share an aggregation group.
//! A new group notifies after `group_wait`; after that it is flushed every `group_interval`, and
//! notifies when its alerts changed (new, re-firing or resolved alerts), or when
//! `repeat_interval` passed without a notification. A group whose alerts have all resolved
//! sends the resolve and ends; a later alert with the same labels opens a new group. One
//! group lifetime is one incident.

use super::{AlertFacts, IncidentDraft};
use corral_core::incident::{EventAction, IncidentUpdate};
use corral_core::model::{Alert, Millis, Status};
use rustc_hash::{FxHashMap, FxHashSet};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Alertmanager's route timing and grouping.
#[derive(Clone, Debug, PartialEq)]
pub struct AmStyleConfig {
    pub group_by: Vec<String>,
    pub group_wait_ms: Millis,
    pub group_interval_ms: Millis,
    pub repeat_interval_ms: Millis,
}

impl Default for AmStyleConfig {
    /// Alertmanager's documented defaults, with the `group_by` of its example configuration.
    fn default() -> Self {
        AmStyleConfig {
            group_by: vec!["alertname".into(), "cluster".into(), "service".into()],
            group_wait_ms: 30_000,
            group_interval_ms: 300_000,
            repeat_interval_ms: 4 * 3_600_000,
        }
    }
}

struct Group {
    draft: IncidentDraft,
    key: String,
    firing: FxHashSet<String>,
    notified: bool,
    changed: bool,
    last_notify: Millis,
    next_flush: Millis,
}

fn group_key(a: &Alert, group_by: &[String]) -> String {
    let mut key = String::new();
    if group_by.iter().any(|k| k == "...") {
        key.push_str(&a.name);
        for (k, v) in &a.labels {
            key.push_str(&format!("\u{1f}{k}={v}"));
        }
        return key;
    }
    for (i, k) in group_by.iter().enumerate() {
        if i > 0 {
            key.push('\u{1f}');
        }
        let v = if k == "alertname" {
            a.name.as_str()
        } else {
            a.label(k).unwrap_or("")
        };
        key.push_str(k);
        key.push('=');
        key.push_str(v);
    }
    key
}

/// Runs Alertmanager-style grouping over a stream in arrival order; event time drives timers.
pub fn alertmanager_style(alerts: &[Alert], cfg: &AmStyleConfig) -> Vec<IncidentUpdate> {
    let mut out = Vec::new();
    let mut groups: Vec<Option<Group>> = Vec::new();
    let mut by_key: FxHashMap<String, usize> = FxHashMap::default();
    let mut timers: BinaryHeap<Reverse<(Millis, usize)>> = BinaryHeap::new();
    let mut now = Millis::MIN;
    let mut serial = 0u64;

    let flush =
        |g: &mut Group, at: Millis, draining: bool, out: &mut Vec<IncidentUpdate>| -> bool {
            // Returns whether the group lives on.
            let why = |g: &Group| vec![format!("grouped by {}", g.key.replace('\u{1f}', ", "))];
            if !g.notified {
                if g.firing.is_empty() {
                    return false; // resolved before group_wait: Alertmanager never notifies
                }
                out.push(g.draft.update(EventAction::Trigger, at, why(g)));
                g.notified = true;
                g.changed = false;
                g.last_notify = at;
            } else if g.changed {
                g.changed = false;
                g.last_notify = at;
                if g.firing.is_empty() {
                    out.push(g.draft.update(EventAction::Resolve, at, why(g)));
                    return false;
                }
                out.push(g.draft.update(EventAction::Trigger, at, why(g)));
            } else if !draining && at - g.last_notify >= cfg.repeat_interval_ms {
                g.last_notify = at;
                out.push(g.draft.update(EventAction::Trigger, at, why(g)));
            } else if draining {
                return false; // nothing more would ever be sent
            }
            g.next_flush = at + cfg.group_interval_ms;
            true
        };

    let run_timers = |until: Millis,
                      draining: bool,
                      groups: &mut Vec<Option<Group>>,
                      by_key: &mut FxHashMap<String, usize>,
                      timers: &mut BinaryHeap<Reverse<(Millis, usize)>>,
                      out: &mut Vec<IncidentUpdate>| {
        while let Some(&Reverse((at, gi))) = timers.peek() {
            if at > until {
                break;
            }
            timers.pop();
            let Some(g) = groups[gi].as_mut() else {
                continue;
            };
            if g.next_flush != at {
                continue; // stale timer
            }
            if flush(g, at, draining, out) {
                timers.push(Reverse((g.next_flush, gi)));
            } else {
                by_key.remove(&g.key);
                groups[gi] = None;
            }
        }
    };

    for a in alerts {
        now = now.max(a.event_time());
        run_timers(now, false, &mut groups, &mut by_key, &mut timers, &mut out);
        let key = group_key(a, &cfg.group_by);
        let fp = a.fingerprint.as_str();
        let gi = match by_key.get(&key) {
            Some(&gi) => gi,
            None => {
                if a.status == Status::Resolved {
                    continue; // a resolve for an alert no group holds: nothing to notify
                }
                serial += 1;
                let gi = groups.len();
                groups.push(Some(Group {
                    draft: IncidentDraft::new(format!("am-{serial:06}"), "alertmanager"),
                    key: key.clone(),
                    firing: FxHashSet::default(),
                    notified: false,
                    changed: false,
                    last_notify: now,
                    next_flush: now + cfg.group_wait_ms,
                }));
                by_key.insert(key, gi);
                timers.push(Reverse((now + cfg.group_wait_ms, gi)));
                gi
            }
        };
        let g = groups[gi].as_mut().expect("live group");
        match a.status {
            Status::Firing => {
                g.draft.add(&AlertFacts::of(a));
                if g.firing.insert(fp.to_string()) {
                    g.changed = true;
                }
            }
            Status::Resolved => {
                if g.firing.remove(fp) {
                    g.changed = true;
                } else if !g.draft.contains(fp) {
                    continue;
                }
            }
        }
        g.draft.touch(a.event_time());
    }
    run_timers(
        Millis::MAX,
        true,
        &mut groups,
        &mut by_key,
        &mut timers,
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(name: &str, resource: &str, cluster: &str, t: Millis) -> Alert {
        let mut a = Alert::firing(name, resource, t);
        a.labels = vec![("cluster".into(), cluster.into())];
        a.fingerprint = corral_core::model::compute_fingerprint("t", name, resource, &a.labels);
        a
    }

    fn resolved(mut a: Alert, t: Millis) -> Alert {
        a.status = Status::Resolved;
        a.ends_at = Some(t);
        a
    }

    #[test]
    fn groups_by_labels_and_notifies_after_group_wait() {
        let a = alert("HostDown", "h1", "dc1", 0);
        let b = alert("HostDown", "h2", "dc1", 10_000);
        let c = alert("HostDown", "h3", "dc2", 12_000);
        let d = alert("DiskFull", "h1", "dc1", 15_000);
        let out = alertmanager_style(&[a.clone(), b.clone(), c, d], &AmStyleConfig::default());
        let ids: FxHashSet<&str> = out.iter().map(|u| u.incident_id()).collect();
        assert_eq!(ids.len(), 3, "HostDown/dc1, HostDown/dc2, DiskFull/dc1");
        let first = &out[0];
        assert_eq!(first.payload.timestamp, "1970-01-01T00:00:30Z");
        assert_eq!(
            first.payload.custom_details.alerts,
            vec![a.fingerprint.to_string(), b.fingerprint.to_string()]
        );
        assert_eq!(first.payload.custom_details.root_cause.resource, "h1");
    }

    #[test]
    fn later_alerts_wait_for_group_interval_and_resolve_ends_the_group() {
        let a = alert("HostDown", "h1", "dc1", 0);
        let b = alert("HostDown", "h2", "dc1", 60_000);
        // The watermark moves on with an unrelated alert.
        let tick = alert("Other", "x", "dc9", 400_000);
        let stream = vec![
            a.clone(),
            b.clone(),
            tick,
            resolved(a.clone(), 500_000),
            resolved(b.clone(), 510_000),
            alert("Other", "y", "dc9", 1_000_000),
            alert("HostDown", "h1", "dc1", 1_100_000),
        ];
        let out = alertmanager_style(&stream, &AmStyleConfig::default());
        let g1: Vec<&IncidentUpdate> = out
            .iter()
            .filter(|u| u.incident_id() == "am-000001")
            .collect();
        assert_eq!(g1.len(), 3, "{g1:#?}");
        assert_eq!(g1[0].payload.custom_details.alert_count, 1);
        // b joined at the first group_interval flush: 30 s + 5 min.
        assert_eq!(g1[1].payload.timestamp, "1970-01-01T00:05:30Z");
        assert_eq!(g1[1].payload.custom_details.alert_count, 2);
        assert_eq!(g1[2].event_action, EventAction::Resolve);
        assert_eq!(g1[2].payload.timestamp, "1970-01-01T00:10:30Z");
        // The same alert after the group ended opens a new incident.
        let last = out.last().unwrap();
        assert_ne!(last.incident_id(), "am-000001");
        assert!(last.payload.custom_details.alerts.contains(&a.fingerprint));
    }

    #[test]
    fn alerts_resolved_within_group_wait_never_notify() {
        let a = alert("Blip", "h1", "dc1", 0);
        let out = alertmanager_style(&[a.clone(), resolved(a, 5_000)], &AmStyleConfig::default());
        assert!(out.is_empty(), "{out:#?}");
    }
}
