#!/usr/bin/env bash
# Checks Infill's logits against llama.cpp's, an independent implementation, on the default
# model exported as a `dream` GGUF (or on MODEL.gguf): for every position of a canvas with masks,
# the top-K ids must agree and the logits lie within 1e-3 (relative to the row's largest).
#
#   tools/llama-cpp/check-logits.sh [MODEL.gguf]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
infill=${INFILL:-$root/.build/release/infill}
[ -x "$infill" ] || { echo "check-logits.sh: $infill is missing; run 'make build' first" >&2; exit 1; }
cli=$(tools/llama-cpp/build.sh | tail -1)
probe=$(dirname "$cli")/llama-logits
gguf=${1:-$root/cache/default-dream-f32.gguf}
[ -f "$gguf" ] || "$infill" model export "$gguf" >&2

# Start token, a letter's opening, four masks, its continuation: every output row compared.
python3 - "$infill" "$probe" "$gguf" <<'PY'
import json, subprocess, sys
infill, probe, gguf = sys.argv[1:4]
text_ids = lambda text: json.loads(subprocess.run(
    [infill, "model", "forward", "--model", gguf, "--text", text, "--json", "--top", "1"],
    check=True, capture_output=True, text=True).stdout)["tokens"]
tokens = [0] + text_ids("Dear Ms Patel,\n\nThank you for") + [16] * 4 + text_ids(" the interview on Monday.\n")
ids = ",".join(map(str, tokens))
top = 5
theirs = json.loads(subprocess.run([probe, gguf, ids, str(top)], check=True, capture_output=True, text=True).stdout)["rows"]
worst, failures = 0.0, 0
for row in theirs:
    p = row["position"]
    ours = json.loads(subprocess.run(
        [infill, "model", "forward", "--model", gguf, "--tokens", ids, "--position", str(p), "--top", str(top), "--json"],
        check=True, capture_output=True, text=True).stdout)["top"]
    scale = max(abs(l) for _, l in row["top"])
    mine = {e["id"]: e["logit"] for e in ours}
    same = set(mine) == {i for i, _ in row["top"]}
    err = max(abs(mine.get(i, float("inf")) - l) for i, l in row["top"]) / scale
    worst = max(worst, err)
    if not same or err > 1e-3:
        failures += 1
        print(f"position {p}: llama.cpp {row['top']} vs infill {[(e['id'], e['logit']) for e in ours]}")
print(f"{len(theirs)} positions, top-{top} ids equal at {len(theirs) - failures}, largest relative logit difference {worst:.2e}")
sys.exit(1 if failures else 0)
PY
