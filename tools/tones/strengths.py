#!/usr/bin/env python3
"""Tone strength vs readability: the table in docs/PIPELINES.md ("Tone steering, per strength").

For each strength S, copies the example pipelines with every field's tone T replaced by a custom
tone `{base: T, strength: S × T's own strength}` (S = 0: no bias at all), fills the example
templates with `infill bench --quality` (product defaults otherwise, no AR baseline), and prints
per strength: the toned fields' mean tone score (the scorer of tools/tones/measure.py, the same as
the reports'), their readable share and their AR-parent NLL, as the benchmark measures them.

Usage: python3 tools/tones/strengths.py --infill .build/release/infill [--strengths 0,1,2,4] [--seeds 1] [--threads 1]
"""
import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import ROOT, score, tone_weights  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--infill", default=os.path.join(ROOT, ".build/release/infill"))
    ap.add_argument("--strengths", default="0,1,2,4")
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    rows = []
    for s in [float(x) for x in a.strengths.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            toned = {}
            for name in sorted(os.listdir(os.path.join(ROOT, "pipelines"))):
                if not name.endswith(".yaml"):
                    continue
                spec = yaml.safe_load(open(os.path.join(ROOT, "pipelines", name), encoding="utf-8"))
                custom = spec.get("tones") or {}
                tones = dict(custom)
                for field, fs in (spec.get("fields") or {}).items():
                    if not isinstance(fs, dict) or "tone" not in fs:
                        continue
                    base = fs["tone"]
                    own = float(custom.get(base, {}).get("strength", 1.0))
                    key = f"{base}-x{s:g}".replace(".", "_")
                    if base in custom:
                        tones[key] = dict(custom[base], strength=own * s)
                    else:
                        tones[key] = {"base": base, "strength": own * s}
                    fs["tone"] = key
                    globs = spec.get("match", [])
                    toned[(tuple([globs] if isinstance(globs, str) else globs), field)] = (base, custom)
                spec["tones"] = tones
                with open(os.path.join(tmp, name), "w", encoding="utf-8") as fh:
                    yaml.safe_dump(spec, fh, sort_keys=False)
            out = subprocess.run(
                [a.infill, "bench", "--quality", "--templates", os.path.join(ROOT, "pipelines/examples"),
                 "--pipelines", tmp, "--seeds", str(a.seeds), "--no-baseline", "--json", "--threads", str(a.threads)],
                check=True, capture_output=True, text=True).stdout
        report = json.loads(out)
        scores, readable, nll = [], [], []
        for f in report["fields"]:
            match = [v for (globs, field), v in toned.items()
                     if field == f["field"] and any(fnmatch.fnmatch(f["template"], g) for g in globs)]
            if not match:
                continue
            base, custom = match[0]
            scores.append(score(f["text"], tone_weights(base, custom)))
            readable.append(1.0 if f["readable"] else 0.0)
            if f["nll"] is not None:
                nll.append(f["nll"])
        rows.append((s, len(scores), sum(scores) / max(1, len(scores)), sum(readable) / max(1, len(readable)),
                     sum(nll) / max(1, len(nll))))
        print(f"strength ×{s:g}: {rows[-1][1]} toned fields, tone score {rows[-1][2]:.1f}, "
              f"readable {100 * rows[-1][3]:.0f} %, NLL {rows[-1][4]:.3f}", file=sys.stderr, flush=True)
    print("| strength | toned fields | mean tone score | readable | AR-parent NLL |")
    print("|---|---|---|---|---|")
    for s, n, t, r, l in rows:
        print(f"| ×{s:g} | {n} | {t:.1f} | {100 * r:.0f} % | {l:.3f} |")


if __name__ == "__main__":
    main()
