use super::*;
use crate::timer_heap::TimerHeap;
use proptest::prelude::*;

#[test]
fn expiry_timers_stay_32_bytes() {
    // One per active alert: as small as the `(Millis, Str)` they replaced.
    assert_eq!(std::mem::size_of::<Expiry>(), 32);
}

/// Every hop count, with ids that are empty, plain and multi-byte: the node anchor's line
/// reads as the `format!` it replaced.
#[test]
fn node_anchor_lines_read_as_the_format_they_replace() {
    for id in ["", "sw-core-1", "höst/ä 7"] {
        for hops in 0..=u8::MAX {
            let expected = if hops == 0 {
                format!("same resource {id}")
            } else {
                format!(
                    "shares upstream {id} ({hops} hop{})",
                    if hops == 1 { "" } else { "s" }
                )
            };
            let mut line = String::from("x: ");
            push_node_anchor(&mut line, id, hops);
            assert_eq!(line, format!("x: {expected}"));
        }
    }
}

proptest! {
    /// The one-shot signature equals the streamed one: names and labels short and long, so
    /// that the gathered bytes fall in each of xxh3's length classes (up to 16, 128 and 240
    /// bytes, and longer) and past the 256-byte buffer (the streamed fallback); labels
    /// naming the resource left out, and alerts without a scoped label (`None`).
    #[test]
    fn check_signature_equals_the_streamed_hash(
        name in "[a-zA-Z]{0,40}",
        resource in "(|h[0-9])",
        labels in proptest::collection::vec(("[a-z]{1,12}", "(h[0-9]|[a-z0-9:.-]{0,90})"), 0..6),
    ) {
        let labels: Vec<(Str, Str)> = labels
            .into_iter()
            .map(|(k, v)| (Str::from(k), Str::from(v)))
            .collect();
        prop_assert_eq!(
            check_signature(&name, &resource, &labels),
            streamed_check_signature(&name, &resource, &labels)
        );
    }
}

proptest! {
    /// The short-value scan answers as `str::contains`: values and resources from a small
    /// alphabet (so that matches, partial matches and repeats are frequent), multi-byte
    /// characters among them, values on both sides of the 64-byte limit.
    #[test]
    fn names_resource_answers_as_contains(
        value in "[ab\u{e4}:-]{0,80}",
        resource in "[ab\u{e4}:-]{1,6}",
    ) {
        prop_assert_eq!(names_resource(&value, &resource), value.contains(resource.as_str()));
    }
}

proptest! {
    /// The sorted, filtered lookup answers as a map of the resources by node would, for
    /// nodes in and out of the set, with resources unknown to the topology among them and
    /// nodes that share their low bits (the filter's false positives).
    #[test]
    fn members_by_node_agrees_with_a_map(
        nodes in proptest::collection::btree_set(prop_oneof![0u32..200, Just(NONE)], 0..40),
        probes in proptest::collection::vec(0u32..260, 0..60),
    ) {
        let aggs: Vec<ResourceAgg> = nodes
            .iter()
            .map(|&node| ResourceAgg {
                node,
                members: 1,
                first_seen: i64::from(node),
                severity: Severity::Error,
                fingerprint: Str::from(format!("fp{node}")),
                name: Str::from("Down"),
                chronic: 0.0,
            })
            .collect();
        let map: FxHashMap<u32, &ResourceAgg> = aggs
            .iter()
            .filter(|a| a.node != NONE)
            .map(|a| (a.node, a))
            .collect();
        let by_node = MembersByNode::new(aggs.iter());
        prop_assert_eq!(by_node.len(), map.len());
        for n in probes.into_iter().chain(nodes.iter().copied()) {
            let want = map.get(&n).map(|a| &a.fingerprint);
            prop_assert_eq!(by_node.get(n).map(|a| &a.fingerprint), want);
            prop_assert_eq!(by_node.contains(n), want.is_some());
        }
    }
}

proptest! {
    /// The incident key written piece by piece reads as the `format!` it replaced, for
    /// sequences below, at and far beyond the six padded digits.
    #[test]
    fn incident_key_reads_as_the_format_it_replaces(
        prefix in "[a-zä-]{0,8}",
        date in "[0-9-]{0,10}",
        seq in prop_oneof![0u64..2_000_000, any::<u64>()],
    ) {
        prop_assert_eq!(
            incident_key(&prefix, &date, seq),
            format!("{prefix}-{date}-{seq:06}")
        );
    }

    /// The summary written piece by piece reads as the `format!` it replaced.
    #[test]
    fn summary_line_reads_as_the_format_it_replaces(
        component in "[a-z-]{0,12}",
        class in "[A-Za-z]{0,12}",
        alerts in prop_oneof![0usize..3, any::<usize>()],
        resources in prop_oneof![0usize..3, any::<usize>()],
    ) {
        let want = format!(
            "{} {}: {} alert{} on {} resource{}",
            if component.is_empty() { "unknown" } else { &component },
            if class.is_empty() { "incident" } else { &class },
            alerts,
            if alerts == 1 { "" } else { "s" },
            resources,
            if resources == 1 { "" } else { "s" },
        );
        prop_assert_eq!(summary_line(&component, &class, alerts, resources), want);
    }

    /// The sorted, deduplicated services equal a `BTreeSet` of every impacted node's
    /// service, over random topologies (services reused in and out of runs, edges of every
    /// type, cycles).
    #[test]
    fn impacted_services_equal_the_set_of_the_blast_radius(
        services in proptest::collection::vec(proptest::option::of(0u8..5), 1..24),
        edges in proptest::collection::vec((0usize..24, 0usize..24, 0usize..4), 0..48),
    ) {
        let mut yaml = String::from("nodes:\n");
        for (i, svc) in services.iter().enumerate() {
            match svc {
                Some(s) => yaml.push_str(&format!("  - {{id: n{i}, kind: host, service: svc-{s}}}\n")),
                None => yaml.push_str(&format!("  - {{id: n{i}, kind: host}}\n")),
            }
        }
        yaml.push_str("edges:\n");
        let types = ["depends_on", "runs_on", "part_of", "connects_to"];
        for &(a, b, t) in &edges {
            let (a, b) = (a % services.len(), b % services.len());
            if a != b {
                yaml.push_str(&format!("  - {{from: n{a}, to: n{b}, type: {}}}\n", types[t]));
            }
        }
        let topo = TopologyIndex::build(
            &crate::topology::TopologyFile::parse(&yaml, "t.yaml").unwrap(),
        );
        for node in 0..topo.node_count() {
            let n = NodeIndex::new(node);
            let mut want: BTreeSet<Str> = BTreeSet::new();
            let radius = topo.impact_of_bounded(n, EdgeMask::ALL, 6, 4096);
            for d in std::iter::once(n).chain(radius.iter().map(|&(d, _)| d)) {
                want.extend(topo.node(d).service.clone());
            }
            let want: Vec<Str> = want.into_iter().collect();
            prop_assert_eq!(&impacted_services(&topo, node as u32)[..], &want[..]);
        }
    }

    /// Same list as collecting both into a `BTreeSet`, as the update builder once did.
    #[test]
    fn union_sorted_is_the_sorted_set_union(
        a in proptest::collection::btree_set("[a-c]{0,3}", 0..8),
        b in proptest::collection::btree_set("[a-c]{0,3}", 0..8),
    ) {
        let a_list: Vec<Str> = a.iter().map(Str::from).collect();
        let b_list: Vec<Str> = b.iter().map(Str::from).collect::<BTreeSet<Str>>().into_iter().collect();
        let expected: Vec<Str> = a.union(&b).map(Str::from).collect();
        prop_assert_eq!(union_sorted(&a_list, &b_list), expected.clone());
        // Shared: the same list, whichever holds the other (or neither).
        let (a_shared, b_shared): (Arc<[Str]>, Arc<[Str]>) = (a_list.into(), b_list.into());
        prop_assert_eq!(&union_shared(&a_shared, &b_shared)[..], &expected[..]);
        prop_assert_eq!(&union_shared(&b_shared, &a_shared)[..], &expected[..]);
        let union: Arc<[Str]> = expected.clone().into();
        prop_assert_eq!(&union_shared(&a_shared, &union)[..], &expected[..]);
        prop_assert_eq!(&union_shared(&union, &b_shared)[..], &expected[..]);
    }

    /// A view's shared list holds the names in order, whatever the scratch held before
    /// (long names too, which a `Str` keeps on the heap); no names is the shared empty list.
    #[test]
    fn shared_names_are_the_names_in_order(
        names in proptest::collection::btree_set("[a-c]{0,3}|[a-z]{25,30}", 0..8),
        stale in proptest::collection::vec("[a-z]{0,30}", 0..4),
    ) {
        let names: Vec<Str> = names.iter().map(Str::from).collect();
        let mut scratch: Vec<Str> = stale.iter().map(Str::from).collect();
        let empty: Arc<[Str]> = Arc::from([]);
        let shared = shared_names(&mut scratch, &empty, names.iter());
        prop_assert_eq!(&shared[..], &names[..]);
        prop_assert_eq!(Arc::ptr_eq(&shared, &empty), names.is_empty());
        prop_assert!(scratch.is_empty());
    }

    /// Split into a queue per kind, the timers still pop in the order of one heap of
    /// `StateTimer`s, ties at the same millisecond included, with pushes and pops
    /// interleaved: queues short and long, pushed in and far out of order.
    #[test]
    fn state_timers_pop_in_single_heap_order(
        ops in proptest::collection::vec((0i64..4, 0u8..5, "[a-c]{1,2}", any::<bool>()), 0..200),
    ) {
        let mut split = StateTimers::default();
        let mut single = TimerHeap::new();
        for (at, kind, fp, pop) in ops {
            if pop {
                prop_assert_eq!(split.pop(), single.pop());
                continue;
            }
            let fp = Str::from(fp);
            let timer = match kind {
                0 => StateTimer::Expire(fp),
                1 => StateTimer::Close(fp.len() as u32),
                2 => StateTimer::Forget(fp),
                3 => StateTimer::DropReopenable(fp),
                _ => StateTimer::MaintenanceEnd(fp),
            };
            split.push(Reverse((at, timer.clone())));
            single.push(Reverse((at, timer)));
            prop_assert_eq!(split.next().map(|(_, at)| at), single.peek().map(|Reverse((at, _))| *at));
        }
        let mut snapshot: Vec<_> = split.timers().collect();
        let mut expected: Vec<_> = single.iter().map(|Reverse(t)| t.clone()).collect();
        snapshot.sort();
        expected.sort();
        prop_assert_eq!(snapshot, expected);
        while let Some(timer) = single.pop() {
            prop_assert_eq!(split.pop(), Some(timer));
        }
        prop_assert_eq!(split.pop(), None);
    }

    /// Expiry timers order as `Reverse<(Millis, Str)>`: fingerprints of the lengths the
    /// inline comparison takes (8 to 16 bytes, equal or not) and of others, sharing
    /// prefixes and deadlines often.
    #[test]
    fn expiries_order_as_reversed_time_and_fingerprint(
        (at_a, at_b) in (0i64..3, 0i64..3),
        (shared, end_a, end_b) in ("[ab]{0,14}", "[ab\\x00]{0,4}", "[ab\\x00]{0,4}"),
    ) {
        let a = (at_a, format!("{shared}{end_a}"));
        let b = (at_b, format!("{shared}{end_b}"));
        let expiry = |(at, fp): &(i64, String)| Expiry { at: *at, fingerprint: Str::from(fp.as_str()) };
        let tuple = |(at, fp): &(i64, String)| Reverse((*at, Str::from(fp.as_str())));
        prop_assert_eq!(expiry(&a).cmp(&expiry(&b)), tuple(&a).cmp(&tuple(&b)));
        prop_assert_eq!(expiry(&a) == expiry(&b), tuple(&a) == tuple(&b));
    }

    /// Pruning that skips the incident lookups (and, with nothing stale, the entries) keeps
    /// exactly what looking up every entry's incident at every visit keeps; `position_of`
    /// finds what looking up every entry finds; the bounds hold after every change; and an
    /// anchor `may_link` turns down links no entry makes: through opens, registrations on
    /// and below the anchor (new entries, and entries taken over by the incident their own
    /// was merged into), releases, closes, merges, reopens of a closed id, and removals of
    /// incidents with no entry on the anchor.
    #[test]
    fn pruning_without_lookups_keeps_what_eager_pruning_keeps(
        ops in proptest::collection::vec((0u8..9, any::<u16>(), any::<u16>()), 1..300),
        (max_hops, impact_hops, window) in (1u8..4, 1u8..4, 1i64..80),
    ) {
        let max_window = 100;
        let rule = GroupingRule { max_hops, impact_hops, window, ..GroupingRule::fallback() };
        let mut open: BTreeSet<u32> = BTreeSet::new();
        let mut closed: Vec<u32> = Vec::new();
        let mut absorbers: BTreeSet<u32> = BTreeSet::new();
        let mut merged: FxHashMap<u32, u32> = FxHashMap::default();
        let mut removals = Removals::default();
        let mut lazy = AnchorEntries::default();
        let mut eager: Vec<AnchorEntry> = Vec::new();
        let (mut next_id, mut now) = (1u32, 0 as Millis);
        let pick = |set: &BTreeSet<u32>, n: u16| set.iter().nth(n as usize % set.len().max(1)).copied();
        // An entry may name the incident its own was merged into: the same for `find_in`.
        let fields = |e: &AnchorEntry, merged: &FxHashMap<u32, u32>| {
            (find_in(merged, e.incident), e.first, e.last, e.below_hops, e.on_active, e.on_last, e.below_unexplained)
        };
        for (op, a, b) in ops {
            // Members registering the anchor: (incident, hops, t, becomes_active, explained).
            let mut registrations: Vec<(u32, u8, Millis, bool, bool)> = Vec::new();
            match op {
                // An incident opens; at times 70 at once, each registering the anchor (more
                // entries than `maybe_merged` has bits).
                0 => {
                    let n = if a % 16 == 0 { 70 } else { 1 };
                    for _ in 0..n {
                        open.insert(next_id);
                        if n > 1 {
                            registrations.push((next_id, (b % 4) as u8, now, true, false));
                        }
                        next_id += 1;
                    }
                }
                // A member registers the anchor, on it or 1-3 hops below it, as
                // `register_anchors` does (a little late at times).
                1 => {
                    let Some(inc) = pick(&open, a) else { continue };
                    now += Millis::from(b % 30);
                    let t = now - Millis::from(b % 7 / 5);
                    registrations.push((inc, (a >> 8) as u8 % 4, t, b & 1 == 0, b & 2 == 0));
                }
                // A member on the anchor stops firing, as `release_anchors` does.
                7 => {
                    let Some(inc) = pick(&open, a) else { continue };
                    now += Millis::from(b % 30);
                    lazy.release(inc, now, &merged);
                    if let Some(e) = eager.iter_mut().find(|e| e.on_active > 0 && find_in(&merged, e.incident) == inc) {
                        e.on_active -= 1;
                        e.on_last = e.on_last.max(now);
                    }
                }
                2 | 3 => {
                    let Some(inc) = pick(&open, a) else { continue };
                    open.remove(&inc);
                    removals.record(inc);
                    if op == 3 {
                        // Merged into another open incident, or closed when there is none.
                        if let Some(into) = pick(&open, b) {
                            merged.insert(inc, into);
                            absorbers.insert(into);
                            continue;
                        }
                    }
                    closed.push(inc);
                }
                // A closed incident reopens under its id, dropping its own entries (only one
                // that absorbed no other, as `Engine::take_reopenable`).
                4 => {
                    let reopenable: Vec<usize> = (0..closed.len()).filter(|&i| !absorbers.contains(&closed[i])).collect();
                    if reopenable.is_empty() { continue; }
                    let inc = closed.remove(reopenable[a as usize % reopenable.len()]);
                    open.insert(inc);
                    lazy.drop_incident(inc);
                    eager.retain(|e| e.incident != inc);
                }
                // Removals of incidents that have no entry here: a few, or more than
                // `prune` compares, or more than are kept.
                5 => {
                    let n = [1, 3, 300, 2 * Removals::KEPT][a as usize % 4];
                    for i in 0..n {
                        removals.record(u32::MAX - i as u32);
                    }
                }
                // An alert at about `now` looks the anchor up from 0-3 hops (through a hub,
                // a service or a co-firing check at times): if the bounds say no entry
                // links, none does.
                8 => {
                    let t = now + Millis::from(b % 200) - 100;
                    let hops = (a % 4) as u8;
                    let (key, hops) = match (a >> 2) % 5 {
                        0 => (AnchorKey::Service(Str::from("s")), if hops == 0 { 0 } else { WEAK }),
                        1 => (AnchorKey::CoFiring(7), if hops == 0 { 0 } else { WEAK }),
                        _ => (AnchorKey::Node(1), hops),
                    };
                    let anchor = AlertAnchor { key, hops, hub: (a >> 5) % 3 == 0 };
                    let severity = if (a >> 7) % 2 == 0 { Severity::Warning } else { Severity::Critical };
                    if !lazy.may_link(&anchor, t, window, &rule, severity) {
                        for e in &eager {
                            if matches!(anchor.key, AnchorKey::CoFiring(_)) {
                                prop_assert_eq!(co_firing_gap(e, &anchor, t), None);
                            } else {
                                prop_assert_eq!(link_hops(e, &anchor, t, t, window, &rule, severity), None);
                            }
                        }
                    }
                }
                _ => {
                    let watermark = now - Millis::from(b % 150);
                    let open_root = |id| {
                        let root = find_in(&merged, id);
                        open.contains(&root).then_some(root)
                    };
                    lazy.prune(watermark, max_window, &removals, open_root);
                    eager.retain(|e| e.live_at(watermark, max_window) && open_root(e.incident).is_some());
                }
            }
            for (inc, hops, t, becomes_active, explained) in registrations {
                // The same entry (lazy's list may hold dead entries before it).
                let found = eager.iter().position(|e| find_in(&merged, e.incident) == inc);
                prop_assert_eq!(
                    lazy.position_of(inc, &removals, &merged).map(|i| fields(&lazy.entries[i], &merged)),
                    found.map(|i| fields(&eager[i], &merged))
                );
                // Found by id alone, whatever the list's last check, when nothing was
                // merged into it (`Engine::register_anchors`' `ids_are_own`).
                let ids_are_own = !absorbers.contains(&inc);
                if ids_are_own {
                    prop_assert_eq!(
                        lazy.position_by_id(inc).map(|i| fields(&lazy.entries[i], &merged)),
                        found.map(|i| fields(&eager[i], &merged))
                    );
                }
                lazy.register(inc, hops, t, becomes_active, explained, ids_are_own, &removals, &merged);
                let e = match found {
                    Some(i) => &mut eager[i],
                    None => {
                        eager.push(AnchorEntry {
                            incident: inc, first: t, last: t, below_hops: NO_HOPS,
                            on_active: 0, on_last: Millis::MIN, on_start: Millis::MAX, below_unexplained: 0,
                        });
                        eager.last_mut().unwrap()
                    }
                };
                e.incident = inc;
                e.first = e.first.min(t);
                e.last = e.last.max(t);
                if hops == 0 {
                    e.on_start = if e.on_start == Millis::MAX { t } else { e.on_start.max(t) };
                    e.on_last = e.on_last.max(t);
                    e.on_active += u32::from(becomes_active);
                } else {
                    e.below_hops = if e.below_hops == NO_HOPS { hops } else { e.below_hops.min(hops) };
                    e.below_unexplained += u32::from(!explained);
                }
            }
            prop_assert!(lazy.bounds.hold_for(&lazy.entries), "bounds {:?} do not hold", lazy.bounds);
            prop_assert!(lazy.iter().all(|e| lazy.incident_bits & incident_bit(e.incident) != 0));
            prop_assert!(lazy.entries.iter().all(|e| e.incident <= lazy.max_incident));
            prop_assert!(lazy.repeats_incident || !repeats_an_incident(&lazy.live_entries()));
            let kept: Vec<_> = lazy.iter().map(|e| fields(e, &merged)).collect();
            let expected: Vec<_> = eager.iter().map(|e| fields(e, &merged)).collect();
            prop_assert_eq!(kept, expected);
        }
    }

    /// Dropping the stale entries by their `quiet_since` keeps what `live_at` keeps, in
    /// order, with exact bounds: entries firing on the anchor, quiet ones with and without a
    /// member ever on it, watermarks near `Millis::MIN` (the subtraction saturates) and
    /// entries exactly `max_window` old.
    #[test]
    fn dropping_stale_entries_keeps_what_live_at_keeps(
        entries in proptest::collection::vec(
            (0u32..200, 0i64..400, 0u8..4, 0u32..3, proptest::option::of(0i64..400)),
            0..40,
        ),
        watermark in prop_oneof![0i64..600, Just(Millis::MIN), Just(Millis::MIN + 5)],
        max_window in 0i64..200,
    ) {
        let entries: Vec<AnchorEntry> = entries
            .into_iter()
            .map(|(incident, last, below_hops, on_active, on_last)| AnchorEntry {
                incident,
                first: last / 2,
                last,
                below_hops,
                on_active,
                on_last: on_last.unwrap_or(Millis::MIN),
                on_start: Millis::MAX,
                below_unexplained: 0,
            })
            .collect();
        let mut fast = AnchorEntries::from_vec(entries.clone());
        let mut eager = AnchorEntries::from_vec(entries);
        fast.drop_stale(watermark.saturating_sub(max_window));
        eager.retain(|e| e.live_at(watermark, max_window));
        let incidents = |list: &AnchorEntries| list.iter().map(|e| (e.incident, e.last, e.on_last)).collect::<Vec<_>>();
        prop_assert_eq!(incidents(&fast), incidents(&eager));
        prop_assert_eq!(fast.bounds, eager.bounds);
        prop_assert_eq!(fast.bounds, EntryBounds::of(&fast.entries));
        prop_assert_eq!(fast.incident_bits, eager.incident_bits);
    }
}

/// Two racks under one core switch, a service on a host, and room for merges: enough for
/// root causes to move between alerting and silent nodes as members join and merge.
const ROOT_CAUSE_TOPOLOGY: &str = "nodes:\n  - {id: core-1, kind: switch}\n  - {id: tor-a, kind: switch}\n  - {id: tor-b, kind: switch}\n  - {id: host-a1, kind: host}\n  - {id: host-a2, kind: host}\n  - {id: host-b1, kind: host}\n  - {id: app-1, kind: service, service: shop}\nedges:\n  - {from: tor-a, to: core-1, type: connects_to}\n  - {from: tor-b, to: core-1, type: connects_to}\n  - {from: host-a1, to: tor-a, type: part_of}\n  - {from: host-a2, to: tor-a, type: part_of}\n  - {from: host-b1, to: tor-b, type: part_of}\n  - {from: app-1, to: host-a1, type: runs_on}\n";

/// Rules that rank root causes differently from the default ones (a reload must not keep
/// a root cause chosen under the old ranking).
const HOST_FIRST_RULES: &str = "settings:\n  alert_expiry: 4m\n  root_cause:\n    prefer_kinds: [host, service, switch]\n    prefer_names: [Disk.*]\n";

/// The alerts the side-by-side proptests draw from: some resources carry two alerts (a
/// second one joins a member resource), two are unknown to the topology.
const SIDE_BY_SIDE_ALERTS: [(&str, &str); 11] = [
    ("HostDown", "host-a1"),
    ("HostUnreachable", "host-a1"),
    ("Restarts", "app-1"),
    ("HostDown", "host-a2"),
    ("DiskFull", "host-b1"),
    ("SwitchDown", "tor-a"),
    ("SwitchDown", "tor-b"),
    ("CoreDown", "core-1"),
    ("Errors", "app-1"),
    ("Errors", "pod-unknown-1"),
    ("Latency", "pod-unknown-2"),
];

/// Runs two engines through the same steps (alert index, severity index, action, seconds
/// since the previous step) and returns both outputs. Mostly firing (new or repeated); some
/// resolves, a long silence, a reload of the ranking rules.
fn side_by_side(
    steps: &[(usize, usize, u8, i64)],
    a: &mut Engine,
    b: &mut Engine,
) -> (Vec<IncidentUpdate>, Vec<IncidentUpdate>) {
    let severities = [
        Severity::Warning,
        Severity::Error,
        Severity::Critical,
        Severity::Info,
    ];
    let host_first = Arc::new(RuleSet::from_yaml(HOST_FIRST_RULES, "r.yaml").unwrap());
    let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
    let mut t = 0;
    for &(alert, severity, action, dt) in steps {
        t += dt * 1_000;
        let (name, resource) = SIDE_BY_SIDE_ALERTS[alert];
        let mut alert = Alert::firing(name, resource, t);
        alert.severity = severities[severity];
        match action {
            0 | 1 => {
                alert.status = Status::Resolved;
                alert.ends_at = Some(t);
            }
            2 => {
                t += 600_000;
                a.advance_to(t, &mut out_a);
                b.advance_to(t, &mut out_b);
                continue;
            }
            3 => {
                let topology = a.topology.clone();
                a.reload(host_first.clone(), topology.clone());
                b.reload(host_first.clone(), topology);
                continue;
            }
            _ => {}
        }
        a.ingest(alert.clone(), &mut out_a);
        b.ingest(alert, &mut out_b);
    }
    a.finish(&mut out_a);
    b.finish(&mut out_b);
    (out_a, out_b)
}

proptest! {
    /// Updates that reuse an incident's root cause while its members, resources, coverage
    /// and services are unchanged are exactly the updates that recompute it every time:
    /// through joins, merges, severities rising on repeats, resolves, expiries, closes,
    /// reopens, resources the topology does not know, and reloads of the ranking rules.
    #[test]
    fn kept_root_causes_equal_recomputed_ones(
        steps in proptest::collection::vec((0usize..11, 0usize..4, 0u8..10, 1i64..90), 1..80),
    ) {
        let mut kept = engine_over(ROOT_CAUSE_TOPOLOGY);
        let mut fresh = engine_over(ROOT_CAUSE_TOPOLOGY);
        fresh.cache_root_causes = false;
        let (out_kept, out_fresh) = side_by_side(&steps, &mut kept, &mut fresh);
        prop_assert_eq!(out_kept, out_fresh);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Root-cause views that skip the silent-node scan and the first-cause walk for an
    /// incident with one member resource on the topology (its first view, mostly) name the
    /// same root cause, confidence, reason and runner-up as views that run both: through
    /// joins of chained resources, unknown ones, severities, resolves, merges, reloads.
    #[test]
    fn single_member_views_equal_fully_scanned_ones(
        steps in proptest::collection::vec((0usize..11, 0usize..4, 0u8..10, 1i64..90), 1..60),
    ) {
        let mut skipping = engine_over(ROOT_CAUSE_TOPOLOGY);
        let mut scanning = engine_over(ROOT_CAUSE_TOPOLOGY);
        // Every update computes its view: none is carried over from an earlier one.
        skipping.cache_root_causes = false;
        scanning.cache_root_causes = false;
        scanning.skip_single_member_scans = false;
        let (out_skipping, out_scanning) = side_by_side(&steps, &mut skipping, &mut scanning);
        prop_assert_eq!(out_skipping, out_scanning);
    }
}

/// Stale entries left in place are gone to every reader: a later registration of their
/// incident adds a fresh entry after the others (as after an eager drop), a late one (before
/// the stale bound) stays visible until the next prune, and a long list drops its dead.
#[test]
fn dead_anchor_entries_are_skipped_as_if_dropped() {
    let (removals, merged) = (Removals::default(), FxHashMap::default());
    let mut list = AnchorEntries::new(&removals);
    let open = |id| Some(id);
    list.register(1, 1, 0, false, false, false, &removals, &merged);
    list.register(2, 1, 50, false, false, false, &removals, &merged);
    // Watermark 130, window 100: incident 1's entry (quiet since 0) is stale, 2's is not.
    list.prune(130, 100, &removals, open);
    let incidents = |list: &AnchorEntries| {
        list.iter()
            .map(|e| (e.incident, e.first))
            .collect::<Vec<_>>()
    };
    assert_eq!(incidents(&list), [(2, 50)]);
    assert_eq!(list.entries.len(), 2, "the stale entry stays in place");
    assert_eq!(list.position_of(1, &removals, &merged), None);
    // Incident 1 registers again: a fresh entry at the end, not the dead one revived.
    list.register(1, 2, 140, false, false, false, &removals, &merged);
    assert_eq!(incidents(&list), [(2, 50), (1, 140)]);
    // A late registration (t 20, before the stale bound 30) is live until the next prune.
    list.register(3, 1, 20, false, false, false, &removals, &merged);
    assert_eq!(incidents(&list), [(2, 50), (1, 140), (3, 20)]);
    list.prune(130, 100, &removals, open);
    assert_eq!(incidents(&list), [(2, 50), (1, 140)]);
    // Registrations on a list of dead entries drop them before it grows.
    list.prune(300, 100, &removals, open);
    assert!(list.is_empty());
    for id in 10..20 {
        list.register(id, 1, 300, false, false, false, &removals, &merged);
    }
    assert_eq!(list.entries.len(), 10, "the dead went before the pushes");
    assert!(list.bounds.hold_for(&list.entries));
}

#[test]
fn a_node_anchor_may_link_as_may_link_says() {
    let (t, window) = (1_000_000, 300_000);
    for (max_hops, impact_hops) in [(0, 0), (1, 3), (2, 3), (3, 1), (4, 4), (255, 255)] {
        let rule = GroupingRule {
            max_hops,
            impact_hops,
            ..GroupingRule::fallback()
        };
        for severity in Severity::ALL {
            let filter = NodeLinkFilter::new(&rule, severity);
            for below_hops_min in [1, 2, 3, 4, 5, 253, 254, u8::MAX] {
                for (on_active, on_last_max) in [
                    (0, Millis::MIN),
                    (1, Millis::MIN),
                    (0, t - window - 1),
                    (0, t - window),
                ] {
                    let list = AnchorEntries {
                        bounds: EntryBounds {
                            on_active,
                            on_last_max,
                            below_hops_min,
                            quiet_min: 0,
                        },
                        ..AnchorEntries::default()
                    };
                    for (hops, hub) in (0..=6)
                        .chain([254, 255])
                        .flat_map(|h| [(h, false), (h, true)])
                    {
                        let a = node_anchor(&(7, hops, hub));
                        assert_eq!(
                            list.node_may_link(hops, hub, t, window, filter),
                            list.may_link(&a, t, window, &rule, severity),
                            "max_hops {max_hops}, {severity:?}, below {below_hops_min}, \
                             active {on_active}, on_last {on_last_max}, hops {hops}, hub {hub}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn a_registration_after_a_removal_elsewhere_catches_the_list_up_and_finds_by_id() {
    let (mut removals, mut merged) = (Removals::default(), FxHashMap::default());
    let mut list = AnchorEntries::new(&removals);
    list.register(1, 1, 0, false, false, false, &removals, &merged);
    list.register(2, 1, 10, false, false, false, &removals, &merged);
    // Incident 65 (incident 1's bit) merged into 2 elsewhere: no entry here is of it, so
    // the next registration brings the list up to date and updates incident 1's entry.
    removals.record(65);
    merged.insert(65, 2);
    list.register(1, 2, 20, false, true, false, &removals, &merged);
    assert_eq!(list.checked_at, removals.count());
    let entries = |list: &AnchorEntries| {
        list.iter()
            .map(|e| (e.incident, e.first, e.last))
            .collect::<Vec<_>>()
    };
    assert_eq!(entries(&list), [(1, 0, 20), (2, 10, 10)]);
    // Incident 1 itself merged into 2: its entry is one of 2's now, so the list stays
    // unchecked (`position_of` looks incidents up) and 2 takes over the first of them.
    removals.record(1);
    merged.insert(1, 2);
    list.register(2, 1, 30, false, false, false, &removals, &merged);
    assert_ne!(list.checked_at, removals.count());
    assert_eq!(entries(&list), [(2, 0, 30), (2, 10, 10)]);
    assert!(list.bounds.hold_for(&list.entries));
}

#[test]
fn an_incident_nothing_was_merged_into_finds_its_entry_by_id_on_an_unchecked_list() {
    let (mut removals, merged) = (Removals::default(), FxHashMap::default());
    let mut list = AnchorEntries::new(&removals);
    list.register(1, 1, 0, false, false, true, &removals, &merged);
    list.register(2, 1, 10, false, false, true, &removals, &merged);
    // Incidents 65 (incident 1's bit) and 2 closed: the list is left as it was checked
    // (as `correlate` leaves a list no link is read from).
    removals.record(65);
    removals.record(2);
    list.register(1, 2, 20, false, true, true, &removals, &merged);
    list.register(3, 0, 25, true, false, true, &removals, &merged);
    assert_ne!(list.checked_at, removals.count(), "no removal compared");
    let entries = |list: &AnchorEntries| {
        list.iter()
            .map(|e| (e.incident, e.first, e.last))
            .collect::<Vec<_>>()
    };
    // Incident 1's entry updated, not a second one added; a new incident's pushed.
    assert_eq!(entries(&list), [(1, 0, 20), (2, 10, 10), (3, 25, 25)]);
    assert!(list.bounds.hold_for(&list.entries));
    // The next prune compares the removals and drops the closed incident's entry.
    let open = |id: u32| (id != 2 && id != 65).then_some(id);
    list.prune(30, 100, &removals, open);
    assert_eq!(list.checked_at, removals.count());
    assert_eq!(entries(&list), [(1, 0, 20), (3, 25, 25)]);
}

#[test]
fn incident_keys_carry_the_date_of_their_day() {
    let mut engine = Engine::new(
        Arc::new(RuleSet::default()),
        Arc::new(TopologyIndex::empty()),
    );
    let day = 86_400_000;
    // Same day twice (the cached date), the next day, back, and outside 1970..=9999.
    for t in [
        5 * day + 1,
        6 * day - 1,
        6 * day,
        5 * day,
        -1,
        300_000 * day,
    ] {
        let full = format_event_time_str(t);
        let date = engine.incident_key_date(t);
        assert_eq!(
            date.as_str(),
            full.get(..10).unwrap_or("0000-00-00"),
            "at {t}"
        );
    }
}

#[test]
fn a_reopened_incident_drops_only_live_entries_of_its_last_episode() {
    let (removals, merged) = (Removals::default(), FxHashMap::default());
    let mut list = AnchorEntries::new(&removals);
    list.register(1, 1, 0, false, false, false, &removals, &merged);
    list.register(2, 1, 50, false, false, false, &removals, &merged);
    list.prune(130, 100, &removals, Some);
    // Incident 1's entry is dead: nothing for a reader to find, nothing to drop.
    list.drop_incident(1);
    assert_eq!(list.entries.len(), 2, "no pass made for a dead entry");
    list.drop_incident(2);
    assert!(list.is_empty());
    assert!(list.bounds.hold_for(&list.entries));
}

#[test]
fn an_alert_reopening_its_incident_drops_its_last_episodes_live_entries() {
    // Closed a minute after its resolve, and fired again while the first episode's anchor
    // entries are still live (within the 5-minute window): the reopen drops them through the
    // lists `correlate` looked up, so the new episode's entries start at the new fire.
    let rules = "settings: {resolve_hold: 1m, allowed_lateness: 0s, reopen_window: 2h}\n";
    let topo = crate::topology::TopologyFile::parse(ROOT_CAUSE_TOPOLOGY, "t.yaml").unwrap();
    let mut engine = Engine::new(
        Arc::new(RuleSet::from_yaml(rules, "r.yaml").unwrap()),
        Arc::new(TopologyIndex::build(&topo)),
    );
    let mut out = Vec::new();
    engine.ingest(Alert::firing("HostDown", "host-b1", 0), &mut out);
    let first_id = engine.incidents.keys().copied().next().unwrap();
    let mut resolved = Alert::firing("HostDown", "host-b1", 0);
    resolved.status = Status::Resolved;
    resolved.ends_at = Some(10_000);
    engine.ingest(resolved, &mut out);
    engine.advance_to(90_000, &mut out);
    assert!(engine.incidents.is_empty(), "closed after the hold");
    let again = 100_000;
    engine.ingest(Alert::firing("HostDown", "host-b1", again), &mut out);
    assert_eq!(engine.stats().incidents_reopened, 1);
    assert_eq!(
        engine.incidents.keys().copied().collect::<Vec<_>>(),
        [first_id]
    );
    let fp = Alert::firing("HostDown", "host-b1", 0).fingerprint;
    let anchors = engine.anchors_of(&fp);
    assert!(
        anchors.node_count() >= 2,
        "the host and the switches above it"
    );
    for a in anchors.iter() {
        let list = engine.anchors.get(&a.key).expect("registered");
        let entries: Vec<AnchorEntry> = list
            .iter()
            .filter(|e| e.incident == first_id)
            .copied()
            .collect();
        assert_eq!(entries.len(), 1, "{:?}", a.key);
        assert_eq!(
            entries[0].first, again,
            "{:?}: the new episode's entry",
            a.key
        );
    }
}

#[test]
fn an_update_of_an_unchanged_membership_reuses_the_root_cause_and_a_join_replaces_it() {
    let mut engine = engine_over(ROOT_CAUSE_TOPOLOGY);
    let mut out = Vec::new();
    engine.ingest(Alert::firing("HostDown", "host-a1", 0), &mut out);
    let id = engine.incidents.keys().copied().next().unwrap();
    // A view marked outdated is no longer the incident's: at most parts of it are reused.
    let kept = |e: &Engine| {
        e.incidents[&id]
            .root_cause
            .as_ref()
            .filter(|v| !v.outdated)
            .map(|v| v.root.resource.clone())
    };
    assert_eq!(
        kept(&engine).as_deref(),
        Some("host-a1"),
        "kept by the opening update"
    );
    // A join forgets it; the next update chooses again (the rack's switch, silent).
    engine.ingest(Alert::firing("HostDown", "host-a2", 1_000), &mut out);
    assert_eq!(kept(&engine), None);
    engine.advance_to(120_000, &mut out);
    assert_eq!(kept(&engine).as_deref(), Some("tor-a"));
    let updates = out.len();
    // A repeat with a higher severity is reported with the root cause it kept.
    let mut worse = Alert::firing("HostDown", "host-a1", 0);
    worse.severity = Severity::Critical;
    engine.ingest(worse, &mut out);
    engine.advance_to(240_000, &mut out);
    assert!(out.len() > updates, "the severity change is reported");
    assert_eq!(kept(&engine).as_deref(), Some("tor-a"));
    let last = &out.last().unwrap().payload;
    assert_eq!(last.severity, Severity::Critical);
    assert_eq!(last.custom_details.root_cause.resource, "tor-a");
}

/// A solo incident reopened by its alert firing again (at another severity, which a lone
/// resource's root cause does not depend on) reports the root-cause view it closed with, the
/// same lists rather than a rebuilt copy; a second resource makes a new view.
#[test]
fn a_reopened_solo_incident_reports_the_view_it_closed_with() {
    let mut engine = engine_over(ROOT_CAUSE_TOPOLOGY);
    let mut out = Vec::new();
    engine.ingest(Alert::firing("HostDown", "host-a1", 0), &mut out);
    let mut recovered = Alert::firing("HostDown", "host-a1", 0);
    recovered.status = Status::Resolved;
    recovered.ends_at = Some(60_000);
    engine.ingest(recovered, &mut out);
    // Closed once the resolve hold (5 minutes) has passed the watermark (a minute behind).
    engine.advance_to(500_000, &mut out);
    let closed = out.last().unwrap().clone();
    assert_eq!(closed.event_action, EventAction::Resolve);
    let mut again = Alert::firing("HostDown", "host-a1", 900_000);
    again.severity = Severity::Warning;
    engine.ingest(again, &mut out);
    assert_eq!(engine.stats().incidents_reopened, 1);
    let reopened = out.last().unwrap().clone();
    assert_eq!(reopened.event_action, EventAction::Trigger);
    assert_eq!(reopened.dedup_key, closed.dedup_key);
    let (before, after) = (
        &closed.payload.custom_details,
        &reopened.payload.custom_details,
    );
    assert_eq!(after.root_cause, before.root_cause);
    assert!(
        Arc::ptr_eq(&before.resources, &after.resources)
            && Arc::ptr_eq(&before.root_cause.reason, &after.root_cause.reason),
        "the view it closed with, not a rebuilt copy"
    );
    // Another resource joins: the next update chooses again, the new failure over the
    // warning (the rack's switch would need two failures below it).
    engine.ingest(Alert::firing("HostDown", "host-a2", 901_000), &mut out);
    engine.advance_to(1_000_000, &mut out);
    let joined = &out.last().unwrap().payload.custom_details;
    assert_eq!(joined.resources.len(), 2);
    assert_eq!(joined.root_cause.resource, "host-a2");
}

/// A member on a resource already counted adds no cover, but only while the topology its
/// neighbourhood was counted under holds: after a reload that puts a switch above its host,
/// the next alert on the host counts the switch (with the default cover a probe adds).
#[test]
fn a_member_on_a_counted_resource_after_a_reload_counts_the_new_neighbourhood() {
    const NODES: &str = "nodes:\n  - {id: host-a1, kind: host}\n  - {id: tor-a, kind: switch}\n";
    let mut engine = engine_over(NODES);
    let mut out = Vec::new();
    engine.ingest(Alert::firing("HostDown", "host-a1", 0), &mut out);
    let id = engine.incidents.keys().copied().next().unwrap();
    let covers_switch = |e: &Engine| {
        let tor = e.topology.resolve("tor-a").unwrap().index() as u32;
        e.incidents[&id].coverage.contains_key(&tor)
    };
    assert!(!covers_switch(&engine));
    let linked = format!("{NODES}edges:\n  - {{from: host-a1, to: tor-a, type: part_of}}\n");
    let topo = crate::topology::TopologyFile::parse(&linked, "t.yaml").unwrap();
    let rules = engine.rules.clone();
    engine.reload(rules, Arc::new(TopologyIndex::build(&topo)));
    engine.ingest(Alert::firing("HostUnreachable", "host-a1", 1_000), &mut out);
    assert_eq!(engine.incidents.len(), 1, "joined the host's incident");
    assert!(covers_switch(&engine));
}

/// An engine with the default rules over a topology written inline.
fn engine_over(topology_yaml: &str) -> Engine {
    let topo = crate::topology::TopologyFile::parse(topology_yaml, "t.yaml").unwrap();
    Engine::new(
        Arc::new(RuleSet::default()),
        Arc::new(TopologyIndex::build(&topo)),
    )
}

#[test]
fn service_regions_are_cached_only_for_services_the_cmdb_knows() {
    let mut engine = engine_over(
        "nodes:\n  - {id: db-1, kind: database, service: payroll}\n  - {id: host-1, kind: host}\nedges:\n  - {from: db-1, to: host-1, type: runs_on}\n",
    );
    let mut out = Vec::new();
    engine.ingest(Alert::firing("HostDown", "host-1", 0), &mut out);
    // Unknown resources naming a thousand services the CMDB has never heard of...
    for i in 0..1000 {
        let mut a = Alert::firing("Errors", &format!("pod-{i}"), 1_000 + i);
        a.service = Some(compact_str::format_compact!("made-up-{i}"));
        engine.ingest(a, &mut out);
    }
    assert!(engine.service_region_cache.is_empty());
    // ...and one of a known service, which is cached once.
    let mut a = Alert::firing("Errors", "payroll-pod-7", 2_000);
    a.service = Some("payroll".into());
    engine.ingest(a, &mut out);
    assert_eq!(engine.service_region_cache.len(), 1);
}

proptest! {
    /// The anchor table answers as a map from anchor to list would, through insertions,
    /// registrations and sweeps that drop lists (slots freed and reused, trailing ones given
    /// back), with node anchors inside and beyond its node index and anchors of other kinds.
    #[test]
    fn the_anchor_table_holds_what_a_map_holds(
        nodes in 0usize..6,
        ops in proptest::collection::vec((0u8..3, 0u32..10, 0u32..40), 1..120),
    ) {
        let key = |k: u32| match k % 3 {
            0 => AnchorKey::Node(k / 3),
            1 => AnchorKey::Service(Str::from(format!("svc-{k}"))),
            _ => AnchorKey::CoFiring(u64::from(k)),
        };
        let removals = Removals::default();
        let mut table = AnchorTable::new(nodes);
        let mut map: FxHashMap<AnchorKey, Vec<u32>> = FxHashMap::default();
        for (op, k, inc) in ops {
            let k = key(k);
            match op {
                // Register an entry of incident `inc` on the anchor.
                0 | 1 => {
                    let slot = table.slot_or_insert(&k, &removals);
                    prop_assert_eq!(table.slot(&k), Some(slot));
                    table.at_mut(slot).register(inc, 0, 0, false, false, false, &removals, &FxHashMap::default());
                    let ids = map.entry(k.clone()).or_default();
                    if !ids.contains(&inc) {
                        ids.push(inc);
                    }
                }
                // Sweep: lists holding an incident below `inc` lose them; empty ones go.
                _ => {
                    table.retain(|list| {
                        list.retain(|e| e.incident >= inc);
                        !list.is_empty()
                    });
                    map.retain(|_, ids| {
                        ids.retain(|&i| i >= inc);
                        !ids.is_empty()
                    });
                }
            }
            prop_assert_eq!(table.len(), map.len());
            // Keys and lists side by side; a free slot holds no entries.
            prop_assert_eq!(table.keys.len(), table.lists.len());
            for &slot in &table.free {
                prop_assert!(table.keys[slot as usize].is_none());
                prop_assert!(table.lists[slot as usize].is_empty());
            }
            for k in (0..10).map(key) {
                let held: Option<Vec<u32>> =
                    table.get(&k).map(|l| l.iter().map(|e| e.incident).collect());
                prop_assert_eq!(held.as_ref(), map.get(&k));
                // `correlate`'s pass over node anchors finds the same slots.
                if let AnchorKey::Node(n) = k {
                    prop_assert_eq!(table.node_slot(n), table.slot(&k).unwrap_or(NO_SLOT));
                }
            }
            let mut listed: Vec<AnchorKey> = table.iter().map(|(k, _)| k.clone()).collect();
            let mut expected: Vec<AnchorKey> = map.keys().cloned().collect();
            listed.sort();
            expected.sort();
            prop_assert_eq!(listed, expected);
        }
    }

    /// The neighbourhood caches answer as a map keyed by (rule, node): inserts, overwrites
    /// and clears, rules and nodes beyond what the vectors hold so far, lookups of what was
    /// never inserted (`GroupCache` is a `NodeCache` per rule, as `rca_cache` is one).
    #[test]
    fn the_group_cache_holds_what_a_map_holds(
        ops in proptest::collection::vec((0u8..8, 0u16..4, 0u32..30), 1..120),
    ) {
        let mut cache = GroupCache::default();
        let mut map: FxHashMap<(u16, u32), GroupNeighbourhood> = FxHashMap::default();
        for (step, (op, rule, node)) in ops.into_iter().enumerate() {
            match op {
                0 => {
                    cache.clear();
                    map.clear();
                }
                1..=3 => {
                    let v: GroupNeighbourhood = Arc::from([(node, op, step % 2 == 0)]);
                    cache.insert(rule, node, v.clone());
                    map.insert((rule, node), v);
                }
                _ => {}
            }
            for rule in 0..5 {
                for node in 0..32 {
                    prop_assert_eq!(cache.get(rule, node), map.get(&(rule, node)));
                }
            }
        }
    }

    /// What a member that stops firing releases: `anchors_on_alert` lists exactly the
    /// anchors of `anchors_of` at 0 hops, in order, under topology and `group_by` rules, for
    /// alerts the CMDB knows and does not, with and without a service and labels.
    #[test]
    fn the_anchors_on_an_alert_are_those_of_its_list_at_no_hops(
        rules in 0usize..3,
        alerts in proptest::collection::vec(
            (0usize..3, 0usize..6, 0usize..3, proptest::option::of(0usize..2)), 1..12),
    ) {
        let rules = [
            "groupings:\n  - name: topology\n",
            "groupings:\n  - name: by-cluster\n    group_by: [labels.cluster]\n",
            "groupings:\n  - name: by-cluster\n    match: {labels: {cluster: {exists: true}}}\n    group_by: [labels.cluster]\n    topology: false\n  - name: topology\n",
        ][rules];
        let topo = crate::topology::TopologyFile::parse(
            "nodes:\n  - {id: core-1, kind: switch}\n  - {id: tor-a, kind: switch, service: net}\n  - {id: host-a, kind: host}\n  - {id: host-b, kind: host}\nedges:\n  - {from: tor-a, to: core-1, type: connects_to}\n  - {from: host-a, to: tor-a, type: part_of}\n  - {from: host-b, to: tor-a, type: part_of}\n",
            "t.yaml",
        )
        .unwrap();
        let mut engine = Engine::new(
            Arc::new(RuleSet::from_yaml(rules, "r.yaml").unwrap()),
            Arc::new(TopologyIndex::build(&topo)),
        );
        let resources = ["core-1", "tor-a", "host-a", "host-b", "pod-1", "pod-2"];
        let (mut out, mut fingerprints) = (Vec::new(), Vec::new());
        for (i, &(name, resource, service, cluster)) in alerts.iter().enumerate() {
            let mut a = Alert::firing(
                ["HostDown", "Errors", "Latency"][name],
                resources[resource],
                i as Millis * 1_000,
            );
            a.service = [None, Some("net".into()), Some("payroll".into())][service].clone();
            if let Some(c) = cluster {
                a.labels.push(("cluster".into(), ["eu", "us"][c].into()));
            }
            fingerprints.push(a.fingerprint.clone());
            engine.ingest(a, &mut out);
        }
        let described = |anchors: &AlertAnchors| -> Vec<(AnchorKey, u8, bool)> {
            anchors.iter().map(|a| (a.key.clone(), a.hops, a.hub)).collect()
        };
        for fp in &fingerprints {
            let mut at_no_hops = described(&engine.anchors_of(fp));
            at_no_hops.retain(|a| a.1 == 0);
            prop_assert_eq!(described(&engine.anchors_on_alert(fp)), at_no_hops);
        }
    }
}

proptest! {
    /// A grouping neighbourhood taken from the root-cause walk's first levels is the walk
    /// over the rule's edges within its reach (whether the root-cause walk was cached
    /// before or not), limits cutting a level short included; with fewer root-cause hops
    /// or a narrower set of edges, the rule's own walk is taken.
    #[test]
    fn grouping_neighbourhoods_are_the_walk_within_the_rules_reach(
        nodes in 2usize..9,
        edges in proptest::collection::vec((0usize..9, 0usize..9, 0usize..4), 0..20),
        max_hops in 1u8..4,
        impact_beyond in 0u8..3,
        rca_hops in 1u8..6,
        limit in 1usize..10,
        all_edges in any::<bool>(),
        rca_first in any::<bool>(),
    ) {
        // A rule's impact hops are at least its max hops (the rules refuse less).
        let impact_hops = max_hops + impact_beyond;
        let types = ["depends_on", "runs_on", "part_of", "connects_to"];
        let mut yaml = String::from("nodes:\n");
        for n in 0..nodes {
            yaml.push_str(&format!("  - {{id: n{n}, kind: host}}\n"));
        }
        yaml.push_str("edges:\n");
        for &(from, to, ty) in &edges {
            if from < nodes && to < nodes && from != to {
                yaml.push_str(&format!(
                    "  - {{from: n{from}, to: n{to}, type: {}}}\n",
                    types[ty]
                ));
            }
        }
        let topo = TopologyIndex::build(
            &crate::topology::TopologyFile::parse(&yaml, "t.yaml").unwrap(),
        );
        let edge_types = if all_edges {
            String::new()
        } else {
            "    edge_types: [depends_on, runs_on]\n".to_string()
        };
        let rules = RuleSet::from_yaml(
            &format!(
                "settings:\n  max_neighbourhood: {limit}\n  root_cause: {{max_hops: {rca_hops}}}\ngroupings:\n  - name: topology\n    max_hops: {max_hops}\n    impact_hops: {impact_hops}\n    max_fanout: 1\n{edge_types}"
            ),
            "r.yaml",
        )
        .unwrap();
        let rule = &rules.groupings[0];
        let mut rca_cache = NodeCache::default();
        for node in 0..nodes as u32 {
            if rca_first {
                rca_neighbourhood(&mut rca_cache, &topo, &rules, node);
            }
            let taken = group_neighbourhood(&mut rca_cache, &topo, &rules, rule, node);
            let walked: Vec<(u32, u8, bool)> = topo
                .upstream_within(
                    NodeIndex::new(node as usize),
                    rule.reach(),
                    rule.edges,
                    limit,
                )
                .iter()
                .map(|u| {
                    let hub = u.hops > 0 && topo.downstream_degree(u.node) > 1;
                    (u.node.index() as u32, u.hops, hub)
                })
                .collect();
            prop_assert_eq!(&taken[..], &walked[..]);
        }
    }
}

#[test]
fn repeats_of_an_absorbed_incidents_members_count_in_the_survivor() {
    let mut engine = engine_over(
        "nodes:\n  - {id: core-1, kind: switch}\n  - {id: tor-a, kind: switch}\n  - {id: tor-b, kind: switch}\n  - {id: host-a, kind: host}\n  - {id: host-b, kind: host}\nedges:\n  - {from: tor-a, to: core-1, type: connects_to}\n  - {from: tor-b, to: core-1, type: connects_to}\n  - {from: host-a, to: tor-a, type: part_of}\n  - {from: host-b, to: tor-b, type: part_of}\n",
    );
    let mut out = Vec::new();
    // host-b's incident is absorbed by host-a's when the core switch bridges them.
    for (name, resource, t) in [
        ("HostDown", "host-a", 0),
        ("HostDown", "host-b", 5_000),
        ("SwitchDown", "core-1", 10_000),
    ] {
        engine.ingest(Alert::firing(name, resource, t), &mut out);
    }
    assert_eq!(engine.merged_into.len(), 1);
    let (&absorbed, &survivor) = engine.merged_into.iter().next().unwrap();
    let repeat = Alert::firing("HostDown", "host-b", 11_000);
    assert!(engine.ingest_repeat(&repeat.head(), &mut out));
    // An alert still naming the absorbed id (as a snapshot taken before the members were
    // re-pointed would) is counted through the merge records, in the survivor.
    engine
        .dedup
        .alerts
        .get_mut(&repeat.fingerprint)
        .unwrap()
        .incident = absorbed;
    let repeat = Alert::firing("HostDown", "host-b", 12_000);
    assert!(engine.ingest_repeat(&repeat.head(), &mut out));
    let inc = &engine.incidents[&survivor];
    assert_eq!((inc.events, inc.last_seen), (5, 12_000));
    assert_eq!(engine.stats().deduplicated, 2);
}

#[test]
fn a_closed_incident_takes_its_merge_records_with_it() {
    let mut engine = engine_over(
        "nodes:\n  - {id: core-1, kind: switch}\n  - {id: tor-a, kind: switch}\n  - {id: tor-b, kind: switch}\n  - {id: host-a, kind: host}\n  - {id: host-b, kind: host}\nedges:\n  - {from: tor-a, to: core-1, type: connects_to}\n  - {from: tor-b, to: core-1, type: connects_to}\n  - {from: host-a, to: tor-a, type: part_of}\n  - {from: host-b, to: tor-b, type: part_of}\n",
    );
    let mut out = Vec::new();
    // Two hosts four hops apart, then the core switch above both: one merge.
    let alerts = [
        ("HostDown", "host-a", 0),
        ("HostDown", "host-b", 5_000),
        ("SwitchDown", "core-1", 10_000),
    ];
    for (name, resource, t) in alerts {
        engine.ingest(Alert::firing(name, resource, t), &mut out);
    }
    assert_eq!(engine.stats().incidents_merged, 1);
    assert_eq!(engine.merged_into.len(), 1);
    // Everything resolves; once the survivor closes, nothing is left of the merge.
    for (name, resource, _) in alerts {
        let mut resolved = Alert::firing(name, resource, 0);
        resolved.status = Status::Resolved;
        resolved.ends_at = Some(60_000);
        engine.ingest(resolved, &mut out);
    }
    engine.advance_to(6 * 3_600_000, &mut out);
    assert!(engine.incidents.is_empty());
    assert!(engine.merged_into.is_empty());
}
