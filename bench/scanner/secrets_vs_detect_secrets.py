#!/usr/bin/env python3
"""kitsune scan vs detect-secrets: time over the same tree, recall/precision on the labeled set.

usage: secrets_vs_detect_secrets.py KITSUNE_BINARY FIXTURE_DIR
(FIXTURE_DIR from gen_secret_fixtures.py; needs `pip install detect-secrets`.)

Scoring is per labeled item (a secret may span lines, e.g. an AWS key pair): a true secret is found
when a tool reports any of its lines; every reported (file, line) that is not a line of a true
secret is a false positive. Time is wall clock for the whole tree (labeled + speed), one run each.
"""
import json, os, subprocess, sys, time

def run_kitsune(binary, root):
    start = time.perf_counter()
    p = subprocess.run([binary, "scan", root, "--format", "json", "--fail-on", "never"], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"kitsune failed ({p.returncode}): {p.stderr}")
    report = json.loads(p.stdout)
    hits = set()
    for f in report["findings"]:
        if f["kind"] != "secret" or "location" not in f:
            continue
        locations = [(f["location"]["path"], f["location"].get("line", 0))]
        # Deduplicated findings list their other places as "path:line, path:line".
        for other in filter(None, f["properties"].get("other_locations", "").split(", ")):
            if ":" in other and not other.startswith("…"):
                path, _, line = other.rpartition(":")
                locations.append((path, int(line)))
        hits.update(locations)
    return elapsed, hits

def run_detect_secrets(root):
    start = time.perf_counter()
    p = subprocess.run(["detect-secrets", "scan", "--all-files", "."], cwd=root, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"detect-secrets failed ({p.returncode}): {p.stderr}")
    hits = set()
    for path, results in json.loads(p.stdout)["results"].items():
        for r in results:
            hits.add((path.lstrip("./"), r["line_number"]))
    return elapsed, hits

def score(hits, labels):
    labeled_hits = {(f, l) for (f, l) in hits if f.startswith("labeled/")}
    secret_lines = {(x["file"], l) for x in labels if x["secret"] for l in x["lines"]}
    found = sum(1 for x in labels if x["secret"] and any((x["file"], l) in labeled_hits for l in x["lines"]))
    positives = sum(1 for x in labels if x["secret"])
    true_hits = len(labeled_hits & secret_lines)
    recall = found / positives
    precision = true_hits / len(labeled_hits) if labeled_hits else 1.0
    missed = sorted({x["kind"] for x in labels if x["secret"] and not any((x["file"], l) in labeled_hits for l in x["lines"])})
    false_kinds = {}
    for hit in labeled_hits - secret_lines:
        kind = next((x["kind"] for x in labels if x["file"] == hit[0] and hit[1] in x["lines"]), "unlabeled")
        false_kinds[kind] = false_kinds.get(kind, 0) + 1
    return recall, precision, len(labeled_hits - secret_lines), missed, false_kinds

def main():
    binary, root = sys.argv[1], sys.argv[2]
    labels = json.load(open(os.path.join(root, "labels.json")))
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs) / 1e6
    kt, kh = run_kitsune(binary, root)
    dt, dh = run_detect_secrets(root)
    print(f"tree: {root} ({size:.1f} MB), {sum(1 for x in labels if x['secret'])} true secrets, {sum(1 for x in labels if not x['secret'])} look-alikes")
    for name, elapsed, hits in (("kitsune", kt, kh), ("detect-secrets", dt, dh)):
        recall, precision, fps, missed, false_kinds = score(hits, labels)
        print(f"{name:15s} time {elapsed:7.2f} s  recall {recall:.3f}  precision {precision:.3f}  false positives {fps}")
        if missed: print(f"{'':15s} missed kinds: {', '.join(missed)}")
        if false_kinds: print(f"{'':15s} false positives by kind: {false_kinds}")
    print(f"speed ratio (detect-secrets / kitsune): {dt / kt:.1f}x")

if __name__ == "__main__":
    main()
