"""Writes Tests/Fixtures/dequant-reference.json: stored bytes and expected fp32 values per ggml type.

    python3 tools/reference/make_quant_fixtures.py

For each of Q4_K, Q5_K, Q6_K, Q5_0, Q5_1 (and Q8_0, Q4_0, Q4_1 for completeness) two cases:
  encoded  random normal data quantised (k-quants by tools/reference/kquants.py, the rest by
           `gguf.quants.quantize`), two super-blocks or eight blocks;
  random   random bytes in every field (every bit pattern of scales, mins and quants), with the
           fp16 scale fields replaced by finite values.
The expected values are `gguf.quants.dequantize` of the bytes (the PyPI `gguf` package, the
independent implementation), stored as base64 little-endian float32 so the Swift test can
compare exactly. Bytes are base64 too. The file is a few KB.
"""
from __future__ import annotations

import base64
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import kquants  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "dequant-reference.json")

# Byte offsets of the fp16 scale fields inside one block, per type.
HALF_FIELDS = {"Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208], "Q5_0": [0], "Q5_1": [0, 2],
               "Q8_0": [0], "Q4_0": [0], "Q4_1": [0, 2]}


def b64(array):
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()


def main():
    import gguf
    from gguf import quants

    rng = np.random.default_rng(20261201)
    cases = []
    for name, fields in HALF_FIELDS.items():
        qtype = gguf.GGMLQuantizationType[name]
        block, size = gguf.GGML_QUANT_SIZES[qtype]
        count = 512 if block == 256 else 256
        data = rng.normal(0, 1, count).astype(np.float32)
        encoded = np.asarray(kquants.quantize(data.reshape(1, -1), name), dtype=np.uint8).reshape(-1)
        raw = rng.integers(0, 256, count // block * size, dtype=np.uint8)
        for b in range(count // block):
            for offset in fields:
                value = np.array([rng.uniform(-0.1, 0.1)], dtype=np.float16).view(np.uint8)
                raw[b * size + offset:b * size + offset + 2] = value
        for kind, stored in (("encoded", encoded), ("random", raw)):
            expected = quants.dequantize(stored, qtype).astype(np.float32).reshape(-1)
            assert expected.size == count and np.isfinite(expected).all()
            if kind == "encoded":
                assert np.abs(expected - data).max() < 0.6, (name, np.abs(expected - data).max())
            cases.append({"type": name, "kind": kind, "count": count, "bytes": b64(stored), "expected": b64(expected)})
    json.dump({"generator": "tools/reference/make_quant_fixtures.py", "gguf": gguf.__name__, "cases": cases},
              open(OUT, "w"), indent=1)
    print(f"{len(cases)} cases, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
