#!/usr/bin/env bash
# Side by side: the same diffusion generation in Infill and in llama.cpp's `llama-diffusion-cli`,
# on the same model (the default model exported as a `dream` GGUF), the same canvas length and
# the same number of denoising steps, one after the other in one run.
#
#   tools/llama-cpp/compare.sh [--threads N] [--tokens N] [--runs N]
#
# Builds llama.cpp first if needed (tools/llama-cpp/build.sh) and exports the model once
# (`infill model export`, into cache/). Needs a release build of infill (`make build`).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
threads=$(nproc); tokens=64; runs=2
while [ $# -gt 0 ]; do
    case $1 in
        --threads) threads=$2; shift 2 ;;
        --tokens) tokens=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

infill=${INFILL:-$root/.build/release/infill}
[ -x "$infill" ] || { echo "compare.sh: $infill is missing; run 'make build' first" >&2; exit 1; }
cli=$(tools/llama-cpp/build.sh | tail -1)
gguf=$root/cache/default-dream-f32.gguf
[ -f "$gguf" ] || "$infill" model export "$gguf" >&2

# llama-diffusion-cli always wraps -p in the model's chat template (SmolLM2's ChatML with its
# system turn) and generates up to --ubatch-size tokens in all; Infill gets the same rendered
# text as its prompt (special tokens are recognised), after its start token at position 0.
request="Write a short thank-you note to a colleague who helped with the quarterly report."
chat=$'<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\n'"$request"$'<|im_end|>\n<|im_start|>assistant\n'
prompt_tokens=$("$infill" generate --model "$gguf" --prompt "$chat" --mask-tokens 1 --steps 1 --json --threads 1 \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["canvas_tokens"] - 1)')
ubatch=$((prompt_tokens + tokens))

run_llama() {
    "$cli" -m "$gguf" -p "$request" -ub "$ubatch" -b "$ubatch" -c "$ubatch" --diffusion-steps "$tokens" \
        --diffusion-algorithm 1 --diffusion-eps 0.001 --temp 0 -t "$threads" -tb "$threads" 2>&1 \
        | sed -n 's/.*total time: \([0-9.]*\)ms.*/\1/p' | awk '{ printf "%.2f\n", $1 / 1000 }'
}
run_infill() {
    "$infill" generate --model "$gguf" --prompt "$chat" --mask-tokens "$tokens" --steps "$tokens" --algorithm entropy \
        --temperature 0 --threads "$threads" --json "$@" | python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["seconds"])'
}

echo "model: $gguf; canvas $((ubatch + 1)) tokens (llama.cpp $ubatch), $tokens masked, $tokens steps, $threads threads, best of $runs"
best() { sort -n | head -1; }
llama=$(for _ in $(seq "$runs"); do run_llama; done | best)
plain=$(for _ in $(seq "$runs"); do run_infill; done | best)
cached=$(for _ in $(seq "$runs"); do run_infill --block-length 32 --cache dual; done | best)
blocks=$(for _ in $(seq "$runs"); do run_infill --block-length 8 --cache dual; done | best)
printf '| engine | decoding | seconds | vs llama.cpp |\n|---|---|---|---|\n'
printf '| llama.cpp llama-diffusion-cli | full canvas every step | %s | 1.0× |\n' "$llama"
printf '| infill generate | full canvas every step | %s | %s× |\n' "$plain" "$(python3 -c "print(round($llama / $plain, 1))")"
printf '| infill generate | blocks of 32, dual cache | %s | %s× |\n' "$cached" "$(python3 -c "print(round($llama / $cached, 1))")"
printf '| infill generate | blocks of 8, dual cache (the documents'"'"' default) | %s | %s× |\n' "$blocks" "$(python3 -c "print(round($llama / $blocks, 1))")"
