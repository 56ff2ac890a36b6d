#!/usr/bin/env bash
# Side by side: the same diffusion generation in Infill and in llama.cpp's `llama-diffusion-cli`,
# on the same model (the default model exported as a `dream` GGUF), the same canvas and the same
# number of denoising steps, one after the other in one run. The comparison itself is
# `infill bench --llama-cpp` (section llama_cpp, Sources/InfillBench/Performance/LlamaCppBench.swift);
# this builds llama.cpp first if needed and prints that section as a table.
#
#   tools/llama-cpp/compare.sh [--threads N] [--quick]
#
# Needs a release build of infill (`make build`). Run it on a quiet machine: llama.cpp's
# spinning thread pool slows down badly when another job holds a core.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
threads=$(nproc); quick=()
while [ $# -gt 0 ]; do
    case $1 in
        --threads) threads=$2; shift 2 ;;
        --quick) quick=(--quick); shift ;;
        *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

infill=${INFILL:-$root/.build/release/infill}
[ -x "$infill" ] || { echo "compare.sh: $infill is missing; run 'make build' first" >&2; exit 1; }
cli=$(tools/llama-cpp/build.sh | tail -1)

"$infill" bench --json --threads "$threads" "${quick[@]}" --llama-cpp "$cli" | python3 -c "
import json, sys
d = json.load(sys.stdin)['llama_cpp']
print('canvas %d tokens (llama.cpp %d: no start token), %d steps, $threads threads' % (d['canvas_tokens'], d['llama_canvas_tokens'], d['steps']))
print('| engine | decoding | seconds | vs llama.cpp |')
print('|---|---|---|---|')
print('| llama.cpp llama-diffusion-cli | full canvas every step | %.2f | 1.0x |' % d['llama_seconds'])
for key, what in [('full', 'full canvas every step'), ('blocks32_dual', 'blocks of 32, dual cache'),
                  ('blocks8_dual', 'blocks of 8, dual cache (the default of documents)')]:
    print('| infill | %s | %.2f | %.1fx |' % (what, d['infill_%s_seconds' % key], d['infill_%s_speedup' % key]))
"
