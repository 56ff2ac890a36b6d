#!/usr/bin/env python3
"""Measure tone steering on the example pipelines: steered vs unsteered tone scores.

For each example template in pipelines/examples/ and each seed, fills it twice with `infill fill`:
once with its pipeline as shipped (fields with `tone:` get the tone's logit bias), once with a copy
of the pipeline whose `tone:` keys are removed (no bias). Every toned field's text is scored with
that tone, using the same scorer as InfillDocuments (a line-by-line port of Tone.score reading the
lexicon files InfillDocuments loads, Sources/InfillDocuments/Lexicons/); for steered fills the script
also checks its score against the report's `tone_score`.

Usage: python3 tools/tones/measure.py --infill .build/release/infill [--seeds 3] [--model default] [--probe]
Prints a table per tone and the mean difference steered - unsteered.

--probe: instead of whole documents (minutes each on a small CPU), fill one toned field at a time:
the example template's text before that field (other placeholders filled with their variable
values or dropped, last 400 characters), the field with the pipeline's own constraints but
`words: 8-20`, and 8 steps. Same tones, same lexicons, same scorer; far cheaper.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LEXICONS = os.path.join(ROOT, "Sources", "InfillDocuments", "Lexicons")


def lexicons():
    vader = {}
    with open(os.path.join(LEXICONS, "vader.tsv"), encoding="utf-8") as f:
        for line in f.read().splitlines():
            w, v = line.split("\t")
            vader[w] = float(v)
    lists = {}
    for name in ["formal", "casual", "cautious", "enthusiastic"]:
        with open(os.path.join(LEXICONS, name + ".txt"), encoding="utf-8") as f:
            lists[name] = {l[1:]: (-1.0 if l[0] == "-" else 1.0) for l in f.read().splitlines() if l}
    return vader, lists


VADER, LISTS = lexicons()
ALIASES = {"upbeat": "enthusiastic", "excited": "enthusiastic", "optimistic": "positive",
           "pessimistic": "negative", "professional": "formal", "informal": "casual", "friendly": "casual",
           "careful": "cautious", "hedged": "cautious", "plain": "neutral"}


def tone_weights(name, custom):
    if name in custom:
        spec = custom[name]
        w = {p.lower(): 1.0 for p in spec.get("prefer", [])}
        w.update({a.lower(): -1.0 for a in spec.get("avoid", [])})
        return w
    name = ALIASES.get(name, name)
    if name == "positive":
        return {k: v / 4 for k, v in VADER.items()}
    if name == "negative":
        return {k: -v / 4 for k, v in VADER.items()}
    if name == "neutral":
        return {k: -abs(v) / 4 for k, v in VADER.items() if abs(v) >= 1}
    if name == "enthusiastic":
        w = {k: 0.5 for k, v in VADER.items() if v >= 2}
        w.update(LISTS["enthusiastic"])
        return w
    return dict(LISTS[name])


def words(text):
    out, cur = [], ""
    for ch in text.lower():
        if ch.isalpha() or ch.isnumeric():
            cur += ch
        elif ch in "'’-" and cur:
            cur += "'" if ch == "’" else ch
        else:
            cur = cur.rstrip("'-")
            if cur:
                out.append(cur)
            cur = ""
    cur = cur.rstrip("'-")
    if cur:
        out.append(cur)
    return out


def score(text, weights):
    ws = words(text)
    if not ws:
        return 0.0
    total = sum(weights.get(w, 0.0) for w in ws)
    for phrase, weight in weights.items():
        if " " in phrase:
            parts = phrase.split(" ")
            for i in range(len(ws) - len(parts) + 1):
                if ws[i:i + len(parts)] == parts:
                    total += weight
    return total * 100 / len(ws)


def fill(infill, template, pipeline, model, out):
    cmd = [infill, "fill", template, "--pipeline", pipeline, "--model", model, "-o", out]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"  fill failed: {r.stderr.strip()}", file=sys.stderr)
        return None
    return json.load(open(out + ".report.json"))


def probe_template(template_path, field, variables):
    text = open(template_path, encoding="utf-8").read()
    front = {}
    if text.startswith("---\n"):
        end = text.index("\n---\n", 4)
        front = yaml.safe_load(text[4:end]) or {}
        text = text[end + 5:]
    values = {k: str(v) for k, v in (variables or {}).items() if v is not None}
    values.update({k: str(v) for k, v in front.items() if k != "pipeline" and not isinstance(v, (list, dict))})
    match = re.search(r"\{\{\s*" + re.escape(field) + r"\s*(\|[^}]*)?\}\}", text)
    before = text[:match.start()]
    before = re.sub(r"\{\{\s*([\w-]+)\s*(\|[^}]*)?\}\}", lambda m: values.get(m.group(1), ""), before)
    return before[-400:] + "{{" + field + "}}\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--infill", required=True)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--model", default="default")
    ap.add_argument("--only", default="", help="comma-separated pipeline names")
    ap.add_argument("--probe", action="store_true", help="one short field at a time (see above)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    rows = []  # (pipeline, field, tone, seed, steered, unsteered)
    examples = sorted(os.listdir(os.path.join(ROOT, "pipelines", "examples")))
    for path in sorted(os.listdir(os.path.join(ROOT, "pipelines"))):
        if not path.endswith(".yaml"):
            continue
        spec = yaml.safe_load(open(os.path.join(ROOT, "pipelines", path)))
        if args.only and spec["name"] not in args.only.split(","):
            continue
        template = next(os.path.join(ROOT, "pipelines", "examples", e) for e in examples
                        if any(__import__("fnmatch").fnmatch(e, g) for g in
                               ([spec["match"]] if isinstance(spec["match"], str) else spec["match"])))
        custom = spec.get("tones", {}) or {}
        toned = {f: s["tone"] for f, s in (spec.get("fields") or {}).items() if s and "tone" in s}
        if args.probe:
            for field, tone in toned.items():
                t = os.path.join(tmp, f"{spec['name']}-{field}.md")
                open(t, "w", encoding="utf-8").write(probe_template(template, field, spec.get("variables")))
                base = json.loads(json.dumps(spec))
                base["match"] = "*.never"
                base["sampling"]["steps"] = 8
                base["sampling"]["candidates"] = 1
                base["fields"] = {field: dict(spec["fields"][field], words="8-20")}
                for seed in range(args.seeds):
                    base["sampling"]["seed"] = seed
                    plain = json.loads(json.dumps(base))
                    plain["fields"][field].pop("tone", None)
                    results = {}
                    for label, s_ in (("steered", base), ("plain", plain)):
                        p = os.path.join(tmp, f"{spec['name']}-{label}.yaml")
                        yaml.safe_dump(s_, open(p, "w"))
                        results[label] = fill(args.infill, t, p, args.model, os.path.join(tmp, f"out-{label}.md"))
                    if not results["steered"] or not results["plain"]:
                        continue
                    w = tone_weights(tone, custom)
                    st, un = results["steered"]["fields"][0], results["plain"]["fields"][0]
                    s_score, u_score = score(st["text"], w), score(un["text"], w)
                    if st.get("tone_score") is not None and abs(st["tone_score"] - s_score) > 0.01:
                        print(f"  scorer mismatch on {field}: report {st['tone_score']} vs {s_score:.4f}", file=sys.stderr)
                    rows.append((spec["name"], field, tone, seed, s_score, u_score))
                    print(f"{spec['name']:22} {field:12} {tone:13} seed {seed}: steered {s_score:7.2f}  unsteered {u_score:7.2f}"
                          f"  | {st['text'][:60]!r} | {un['text'][:60]!r}", flush=True)
            continue
        for seed in range(args.seeds):
            steered = json.loads(json.dumps(spec))
            steered["sampling"]["seed"] = seed
            plain = json.loads(json.dumps(steered))
            for f in plain.get("fields", {}).values():
                if f:
                    f.pop("tone", None)
            results = {}
            for label, s in (("steered", steered), ("plain", plain)):
                p = os.path.join(tmp, f"{spec['name']}-{label}.yaml")
                yaml.safe_dump(s, open(p, "w"))
                results[label] = fill(args.infill, template, p, args.model, os.path.join(tmp, f"out-{label}.md"))
            if not results["steered"] or not results["plain"]:
                continue
            for field, tone in toned.items():
                w = tone_weights(tone, custom)
                st = next(f for f in results["steered"]["fields"] if f["name"] == field)
                un = next(f for f in results["plain"]["fields"] if f["name"] == field)
                s_score, u_score = score(st["text"], w), score(un["text"], w)
                if st.get("tone_score") is not None and abs(st["tone_score"] - s_score) > 0.01:
                    print(f"  scorer mismatch on {field}: report {st['tone_score']} vs {s_score:.4f}", file=sys.stderr)
                rows.append((spec["name"], field, tone, seed, s_score, u_score))
                print(f"{spec['name']:22} {field:12} {tone:13} seed {seed}: steered {s_score:7.2f}  unsteered {u_score:7.2f}",
                      flush=True)
    if not rows:
        sys.exit("no measurements")
    print()
    by_tone = {}
    for r in rows:
        by_tone.setdefault(r[2], []).append(r)
    print(f"{'tone':14} {'n':>3} {'steered':>8} {'unsteered':>10} {'higher':>7}")
    for tone, rs in sorted(by_tone.items()):
        s = sum(r[4] for r in rs) / len(rs)
        u = sum(r[5] for r in rs) / len(rs)
        higher = sum(1 for r in rs if r[4] > r[5])
        print(f"{tone:14} {len(rs):3} {s:8.2f} {u:10.2f} {higher:4}/{len(rs)}")
    s = sum(r[4] for r in rows) / len(rows)
    u = sum(r[5] for r in rows) / len(rows)
    print(f"{'all':14} {len(rows):3} {s:8.2f} {u:10.2f} {sum(1 for r in rows if r[4] > r[5]):4}/{len(rows)}")


if __name__ == "__main__":
    main()
