#!/usr/bin/env python3
"""Does `corral explain --alerts` agree with the engine on pairs it kept apart?

Takes the pairs of alerts on nearby nodes (dependent and upstream within 2 hops, or siblings of one
upstream with at most 64 dependents) that first fire within 5 minutes of each other and that the
engine put in different incidents, and counts what each given `corral` binary's explain says
about them: "linked" with the generic note is the disagreement this script exists to find.

    corral simulate --suite standard --scenario mixed-day --out /tmp/rules-std --seed 1
    scripts/explain-agreement.py /tmp/rules-std/mixed-day target/release/corral [OTHER_CORRAL...]

Needs PyYAML. Each pair is one replay per binary (about 0.15 s CPU each on mixed-day).

With --unknown first, checks the alerts on resources the CMDB does not know instead (the
standard suite's cmdb-gaps scenario): for each incident, how explain says each such member joined
(a weak link, a strong link, or "unlinked": only the generic note), and, for pairs of an unknown-
resource alert and an earlier alert of the same name or service within 5 minutes that the engine
put in different incidents, what explain says (as above, plus "linked: weak note").

    corral simulate --suite standard --scenario cmdb-gaps --out /tmp/explain2-std --seed 1
    scripts/explain-agreement.py --unknown /tmp/explain2-std/cmdb-gaps target/release/corral
"""
import json
import subprocess
import sys
from datetime import datetime

import yaml


def known_resources(topology):
    """Node ids and aliases, as `TopologyIndex::resolve` knows them."""
    known = set()
    for n in yaml.safe_load(open(topology))["nodes"]:
        known.add(n["id"])
        known.update(n.get("aliases") or [])
    return known


def resolves(resource, known):
    """`TopologyIndex::resolve`: id or alias, else the host of `host:port`, else the first label
    of a fully qualified name."""
    if resource in known:
        return True
    host, _, port = resource.rpartition(":")
    if host and port.isdigit():
        resource = host
        if resource in known:
            return True
    return resource.split(".")[0] in known


def explain_json(binary, alerts, topology, *args):
    out = subprocess.run(
        [binary, "explain", alerts, "--topology", topology, *args, "--json"],
        capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(out)


def first_firings(alerts):
    """Fingerprint -> (start in seconds, alert) of each alert's first firing occurrence."""
    first = {}
    for line in open(alerts):
        a = json.loads(line)
        if a["status"] != "firing" or a.get("value") is not None:
            continue
        t = datetime.fromisoformat(a["starts_at"].replace("Z", "+00:00")).timestamp()
        first.setdefault(a["fingerprint"], (t, a))
    return first


def engine_incidents(binary, alerts, topology):
    """Fingerprint -> the incident the engine's replay last put it in."""
    replay = subprocess.run(
        [binary, "replay", alerts, "--topology", topology],
        capture_output=True, text=True, check=True,
    ).stdout
    incident = {}
    for line in replay.splitlines():
        try:
            u = json.loads(line)
        except ValueError:
            continue
        for fp in u.get("payload", {}).get("custom_details", {}).get("alerts", []):
            incident[fp] = u["dedup_key"]
    return incident


def resource_of(label):
    # `NAME@RESOURCE (fp)`
    return label.split("@", 1)[1].rsplit(" (", 1)[0]


def unknown_main(scenario, binaries):
    alerts, topology = f"{scenario}/alerts.ndjson", f"{scenario}/topology.yaml"
    known = known_resources(topology)
    first = first_firings(alerts)
    incident = engine_incidents(binaries[0], alerts, topology)
    members = {}
    for fp, inc in incident.items():
        members.setdefault(inc, []).append(fp)
    unknown = {fp for fp, (_, a) in first.items() if not resolves(a["resource"], known)}
    incidents = sorted(
        inc for inc, fps in members.items()
        if len(fps) > 1 and any(fp in unknown for fp in fps)
        and all(incident.get(fp) == inc for fp in fps)
    )
    # Pairs apart: an unknown-resource alert and an earlier alert of the same name or service.
    pairs = []
    for fb in sorted(unknown):
        tb, b = first[fb]
        for fa, (ta, a) in first.items():
            if fa == fb or not (0 <= tb - ta <= 300):
                continue
            same = a["name"] == b["name"] or (b.get("service") and a.get("service") == b.get("service"))
            ia, ib = incident.get(fa), incident.get(fb)
            if same and ia and ib and ia != ib:
                pairs.append((fa, fb))
    pairs = sorted(pairs)[:200]
    print(f"{len(incidents)} incidents with unknown-resource members, {len(pairs)} pairs apart "
          f"(first 200)", file=sys.stderr)
    for binary in binaries:
        joined = {}
        for inc in incidents:
            v = explain_json(binary, alerts, topology, "--incident", inc)
            for link in v["chain"]:
                fp = link["to"].rsplit(" (", 1)[1].rstrip(")")
                earlier = link["from"].rsplit(" (", 1)[1].rstrip(")")
                if link.get("weak") and fp not in unknown and earlier in unknown:
                    # Gathered: the unknown alert fired first, a known one gathered it.
                    fp = earlier
                if fp in unknown:
                    kind = link.get("weak", {}).get("kind")
                    key = f"joined: weak {kind}" if kind else "joined: strong link"
                    joined[key] = joined.get(key, 0) + 1
            for label in v["unlinked"]:
                fp = label.rsplit(" (", 1)[1].rstrip(")")
                if fp in unknown:
                    joined["unlinked: generic note"] = joined.get("unlinked: generic note", 0) + 1
        apart = {}
        for fa, fb in pairs:
            v = explain_json(binary, alerts, topology, "--alerts", f"{fa},{fb}")
            link = v["chain"][0] if v["chain"] else {}
            if v["grouped"]:
                key = "grouped (absorbed incident)"
            elif link.get("linked"):
                if link.get("weak"):
                    key = "linked: weak note (" + link["weak"]["kind"] + ")"
                elif v.get("shared_symptom"):
                    key = "linked: shared symptom"
                else:
                    key = "linked: generic note"
            elif link.get("causality"):
                key = "not linked: " + link["causality"]
            else:
                key = "not linked"
            apart[key] = apart.get(key, 0) + 1
        print(binary, "members", json.dumps(joined, sort_keys=True))
        print(binary, "apart", json.dumps(apart, sort_keys=True))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--unknown":
        if len(sys.argv) < 4:
            sys.exit(__doc__)
        return unknown_main(sys.argv[2], sys.argv[3:])
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    scenario, binaries = sys.argv[1], sys.argv[2:]
    alerts, topology = f"{scenario}/alerts.ndjson", f"{scenario}/topology.yaml"
    first = {fp: (t, a["resource"]) for fp, (t, a) in first_firings(alerts).items()}
    incident = engine_incidents(binaries[0], alerts, topology)
    up = {}
    for e in yaml.safe_load(open(topology))["edges"]:
        up.setdefault(e["from"], set()).add(e["to"])
    near = set()
    down = {}
    for a, ups in up.items():
        for m in ups:
            near.add((a, m))
            down.setdefault(m, set()).add(a)
            for m2 in up.get(m, ()):
                near.add((a, m2))
    for ds in down.values():
        if len(ds) <= 64:
            near.update((a, b) for a in ds for b in ds if a < b)
    by_resource = {}
    for fp, (t, r) in first.items():
        by_resource.setdefault(r, []).append((t, fp))
    pairs = []
    for ra, rb in sorted(near):
        for ta, fa in by_resource.get(ra, []):
            for tb, fb in by_resource.get(rb, []):
                ia, ib = incident.get(fa), incident.get(fb)
                if abs(ta - tb) <= 300 and ia and ib and ia != ib:
                    pairs.append((fa, fb) if ta <= tb else (fb, fa))
    print(f"{len(pairs)} pairs apart", file=sys.stderr)
    for binary in binaries:
        counts = {}
        for fa, fb in pairs:
            out = subprocess.run(
                [binary, "explain", alerts, "--topology", topology,
                 "--alerts", f"{fa},{fb}", "--json"],
                capture_output=True, text=True, check=True,
            ).stdout
            v = json.loads(out)
            link = v["chain"][0] if v["chain"] else {}
            if v["grouped"]:
                key = "grouped (absorbed incident)"
            elif link.get("linked"):
                note = v.get("note") or ""
                if "(recovered apart)" in note:
                    key = "linked: recovered apart"
                elif "(recovered apart from its causes)" in note:
                    key = "linked: recovered apart from its causes"
                elif "(outlived its causes)" in note:
                    key = "linked: outlived its causes"
                elif v.get("shared_symptom"):
                    key = "linked: shared symptom"
                elif "(user-facing late cause)" in note:
                    key = "linked: user-facing late cause"
                elif "a late cause joins" in note:
                    key = "linked: late cause"
                elif "(explaining away)" in note:
                    key = "linked: explained away"
                elif "not that impact" in note:
                    key = "linked: impact already shown"
                elif "(warnings passed over)" in note:
                    key = "linked: warnings passed over"
                elif "rather than one beyond root-cause reach" in note:
                    key = "linked: failure within root-cause reach"
                else:
                    key = "linked: generic note"
            elif link.get("causality"):
                key = "not linked: " + link["causality"]
            else:
                key = "not linked: hops, window or edges"
            counts[key] = counts.get(key, 0) + 1
        print(binary, json.dumps(counts, sort_keys=True))


if __name__ == "__main__":
    main()
