#!/usr/bin/env python3
"""Does `corral explain --alerts` agree with the engine on pairs it kept apart?

Takes the pairs of alerts on nearby nodes (dependent and upstream within 2 hops, or siblings of one
upstream with at most 64 dependents) that first fire within 5 minutes of each other and that the
engine put in different incidents, and counts what each given `corral` binary's explain says
about them: "linked" with the generic note is the disagreement this script exists to find.

    corral simulate --suite standard --scenario mixed-day --out /tmp/rules-std --seed 1
    scripts/explain-agreement.py /tmp/rules-std/mixed-day target/release/corral [OTHER_CORRAL...]

Needs PyYAML. Each pair is one replay per binary (about 0.15 s CPU each on mixed-day).
"""
import json
import subprocess
import sys
from datetime import datetime

import yaml


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    scenario, binaries = sys.argv[1], sys.argv[2:]
    alerts, topology = f"{scenario}/alerts.ndjson", f"{scenario}/topology.yaml"
    first = {}
    for line in open(alerts):
        a = json.loads(line)
        if a["status"] != "firing" or a.get("value") is not None:
            continue
        t = datetime.fromisoformat(a["starts_at"].replace("Z", "+00:00")).timestamp()
        first.setdefault(a["fingerprint"], (t, a["resource"]))
    replay = subprocess.run(
        [binaries[0], "replay", alerts, "--topology", topology],
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
                key = "linked: shared symptom" if v.get("shared_symptom") else "linked: generic note"
            elif link.get("causality"):
                key = "not linked: " + link["causality"]
            else:
                key = "not linked: hops, window or edges"
            counts[key] = counts.get(key, 0) + 1
        print(binary, json.dumps(counts, sort_keys=True))


if __name__ == "__main__":
    main()
