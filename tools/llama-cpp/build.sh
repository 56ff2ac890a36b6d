#!/usr/bin/env bash
# Builds llama.cpp's `llama-diffusion-cli` from the llama.cpp sources vendored in the
# llama-cpp-python sdist on PyPI (the only offline-reachable copy), for the side-by-side
# benchmark in tools/llama-cpp/compare.sh. Resumable: a finished step is not redone.
#
#   tools/llama-cpp/build.sh [DIR]     (default: cache/llama.cpp, ignored by git)
#
# Also builds build/bin/llama-logits (tools/llama-cpp/logits.cpp) for check-logits.sh.
# Prints the path of llama-diffusion-cli on its last line.
set -euo pipefail

VERSION=0.3.36
SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
URL=https://files.pythonhosted.org/packages/ec/e9/e7de2b0463ea3ffbf0ede6cb21b58c1258a8f6521aae45ca773a59fe7cf3/llama_cpp_python-$VERSION.tar.gz

root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$root/cache/llama.cpp}
mkdir -p "$dir"
cd "$dir"

sdist=llama_cpp_python-$VERSION.tar.gz
if ! echo "$SHA256  $sdist" | sha256sum -c --status 2>/dev/null; then
    echo "build.sh: downloading $sdist from PyPI" >&2
    curl -fsSL -o "$sdist.part" "$URL"
    echo "$SHA256  $sdist.part" | sha256sum -c --status || { echo "build.sh: $sdist: checksum mismatch" >&2; exit 1; }
    mv "$sdist.part" "$sdist"
fi
src=llama_cpp_python-$VERSION/vendor/llama.cpp
[ -f "$src/CMakeLists.txt" ] || tar xzf "$sdist"

# CMake and Ninja from PyPI when the system has none.
if ! command -v cmake >/dev/null || ! command -v ninja >/dev/null; then
    [ -x tools-venv/bin/cmake ] || { python3 -m venv tools-venv && tools-venv/bin/pip install -q cmake ninja; }
    export PATH="$dir/tools-venv/bin:$PATH"
fi

# CPU only, OpenMP off (its spinning threads distort a 2-core comparison), native ISA like ours.
cmake -S "$src" -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DGGML_OPENMP=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DBUILD_SHARED_LIBS=OFF >&2
cmake --build build --target llama-diffusion-cli -j "${JOBS:-$(nproc)}" >&2
# The logits probe of check-logits.sh, linked against the same libraries.
if [ ! -x build/bin/llama-logits ] || [ "$root/tools/llama-cpp/logits.cpp" -nt build/bin/llama-logits ]; then
    c++ -O2 -std=c++17 -I"$src/include" -I"$src/ggml/include" "$root/tools/llama-cpp/logits.cpp" \
        build/src/libllama.a build/ggml/src/libggml.a build/ggml/src/libggml-cpu.a build/ggml/src/libggml-base.a \
        -lpthread -ldl -o build/bin/llama-logits
fi
echo "$dir/build/bin/llama-diffusion-cli"
