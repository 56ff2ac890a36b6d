"""Simple numpy encoders for ggml's Q4_K, Q5_K and Q6_K super-blocks (256 elements).

The `gguf` package (PyPI) only *decodes* k-quants; these encoders exist so tiny fixtures can
store real k-quant tensors. They pick scales by min/max (not llama.cpp's search), which is
enough for tests: the fixtures' expected values always come from `gguf.quants.dequantize` of the
bytes written here, never from this file, and `check()` asserts the round trip is close.
"""
from __future__ import annotations

import numpy as np

QK_K = 256


def _f16(x):
    return np.asarray(x, dtype=np.float16)


def _pack_scale_min(sc, mn):
    """12 bytes holding eight 6-bit scales and mins (ggml's get_scale_min_k4 layout)."""
    sc = sc.astype(np.uint8)
    mn = mn.astype(np.uint8)
    out = np.zeros(12, dtype=np.uint8)
    for j in range(8):
        if j < 4:
            out[j] = sc[j] & 63
            out[j + 4] = mn[j] & 63
        else:
            out[j + 4] = (sc[j] & 0x0F) | ((mn[j] & 0x0F) << 4)
            out[j - 4] |= (sc[j] >> 4) << 6
            out[j] |= (mn[j] >> 4) << 6
    return out


def _scales_mins(x, levels):
    """Per 32-element sub-block affine scales: x ≈ d·sc·q − dmin·mn, q in 0..levels."""
    sub = x.reshape(8, 32)
    lo = np.minimum(sub.min(axis=1), 0.0)
    hi = sub.max(axis=1)
    scale = np.where(hi - lo > 0, (hi - lo) / levels, 1e-8)
    d = float(_f16(max(scale.max() / 63, 1e-8)))
    dmin = float(_f16(max((-lo).max() / 63, 1e-8)))
    sc = np.clip(np.round(scale / d), 1, 63)
    mn = np.clip(np.round(-lo / dmin), 0, 63)
    q = np.clip(np.round((sub + (dmin * mn)[:, None]) / (d * sc)[:, None]), 0, levels).astype(np.uint8)
    return d, dmin, sc, mn, q


def encode_q4_k(x):
    out = []
    for block in np.asarray(x, dtype=np.float32).reshape(-1, QK_K):
        d, dmin, sc, mn, q = _scales_mins(block, 15)
        qs = np.zeros(128, dtype=np.uint8)
        for pair in range(4):
            qs[pair * 32:(pair + 1) * 32] = q[2 * pair] | (q[2 * pair + 1] << 4)
        out.append(np.concatenate([_f16([d]).view(np.uint8), _f16([dmin]).view(np.uint8),
                                   _pack_scale_min(sc, mn), qs]))
    return np.concatenate(out)


def encode_q5_k(x):
    out = []
    for block in np.asarray(x, dtype=np.float32).reshape(-1, QK_K):
        d, dmin, sc, mn, q = _scales_mins(block, 31)
        qs = np.zeros(128, dtype=np.uint8)
        qh = np.zeros(32, dtype=np.uint8)
        for pair in range(4):
            lo, hi = q[2 * pair], q[2 * pair + 1]
            qs[pair * 32:(pair + 1) * 32] = (lo & 0x0F) | ((hi & 0x0F) << 4)
            qh |= ((lo >> 4) & 1) << (2 * pair)
            qh |= ((hi >> 4) & 1) << (2 * pair + 1)
        out.append(np.concatenate([_f16([d]).view(np.uint8), _f16([dmin]).view(np.uint8),
                                   _pack_scale_min(sc, mn), qh, qs]))
    return np.concatenate(out)


def encode_q6_k(x):
    out = []
    for block in np.asarray(x, dtype=np.float32).reshape(-1, QK_K):
        sub = block.reshape(16, 16)
        amax = np.abs(sub).max(axis=1)
        scale = np.where(amax > 0, amax / 31, 1e-8)
        d = float(_f16(max(scale.max() / 127, 1e-8)))
        sc = np.clip(np.round(scale / d), 1, 127).astype(np.int8)
        q = (np.clip(np.round(sub / (d * sc.astype(np.float64))[:, None]), -32, 31) + 32).astype(np.uint8).reshape(256)
        ql = np.zeros(128, dtype=np.uint8)
        qh = np.zeros(64, dtype=np.uint8)
        for half in range(2):
            y = q[half * 128:(half + 1) * 128]
            l = np.arange(32)
            q1, q2, q3, q4 = y[l], y[l + 32], y[l + 64], y[l + 96]
            ql[half * 64 + l] = (q1 & 0x0F) | ((q3 & 0x0F) << 4)
            ql[half * 64 + 32 + l] = (q2 & 0x0F) | ((q4 & 0x0F) << 4)
            qh[half * 32 + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)
        out.append(np.concatenate([ql, qh, sc.view(np.uint8), _f16([d]).view(np.uint8)]))
    return np.concatenate(out)


ENCODERS = {"Q4_K": encode_q4_k, "Q5_K": encode_q5_k, "Q6_K": encode_q6_k}


def quantize(array, type_name):
    """Bytes of `array` (rows of a multiple of 256) in a k-quant or in any type `gguf.quants` encodes."""
    import gguf
    from gguf import quants

    array = np.ascontiguousarray(array, dtype=np.float32)
    if type_name in ENCODERS:
        rows = array.reshape(-1, array.shape[-1])
        encoded = ENCODERS[type_name](rows)
        block_size, type_size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[type_name]]
        return encoded.reshape(*array.shape[:-1], array.shape[-1] // block_size * type_size)
    return quants.quantize(array, gguf.GGMLQuantizationType[type_name])


def check():
    """Round-trips random data through each encoder and gguf's decoder."""
    import gguf
    from gguf import quants

    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (4, 512)).astype(np.float32)
    for name in ENCODERS:
        back = quants.dequantize(quantize(x, name), gguf.GGMLQuantizationType[name])
        err = np.abs(back - x).max()
        assert err < {"Q4_K": 0.5, "Q5_K": 0.25, "Q6_K": 0.12}[name], (name, err)
    return True


if __name__ == "__main__":
    print("ok" if check() else "failed")
