"""Independent numpy (float64) reference of the Llama/Qwen2 forward pass used by Infill's engine.

It shares no code with the Swift engine. GGUF weights are dequantised with the `gguf` package
and kept in GGUF's own row order: llama q/k rows stay interleaved and RoPE is applied to
adjacent pairs (llama.cpp's convention). HF safetensors weights keep HF's order and use
rotate-half RoPE. Agreement between the two paths checks the engine's un-permutation.
"""
from __future__ import annotations

import json
import os

import numpy as np


class Weights:
    """A decoder's weights as float64 arrays, [out, in] per linear layer."""

    def __init__(self, cfg, embed, layers, final_norm, head, rope):
        self.cfg = cfg  # dict: hidden, heads, kv_heads, head_dim, theta, eps
        self.embed = embed
        self.layers = layers  # list of dicts
        self.final_norm = final_norm
        self.head = head if head is not None else embed
        self.rope = rope  # "interleaved" (GGUF llama) or "half" (HF, GGUF qwen2)


def load_gguf(path):
    import gguf
    from gguf import quants

    reader = gguf.GGUFReader(path)

    def field(key, default=None):
        f = reader.fields.get(key)
        if f is None:
            return default
        return f.contents()

    arch = field("general.architecture")
    tensors = {t.name: t for t in reader.tensors}

    def get(name):
        t = tensors[name]
        data = quants.dequantize(t.data, t.tensor_type).astype(np.float64)
        rows = int(t.shape[1]) if len(t.shape) > 1 else 1
        return data.reshape(rows, -1) if len(t.shape) > 1 else data.reshape(-1)

    hidden = field(f"{arch}.embedding_length")
    heads = field(f"{arch}.attention.head_count")
    cfg = dict(
        hidden=hidden, heads=heads, kv_heads=field(f"{arch}.attention.head_count_kv", heads),
        head_dim=hidden // heads, theta=float(field(f"{arch}.rope.freq_base", 10000.0)),
        eps=float(field(f"{arch}.attention.layer_norm_rms_epsilon", 1e-6)),
    )
    layers = []
    for i in range(field(f"{arch}.block_count")):
        p = f"blk.{i}."
        layer = dict(
            norm1=get(p + "attn_norm.weight"), q=get(p + "attn_q.weight"), k=get(p + "attn_k.weight"),
            v=get(p + "attn_v.weight"), o=get(p + "attn_output.weight"), norm2=get(p + "ffn_norm.weight"),
            gate=get(p + "ffn_gate.weight"), up=get(p + "ffn_up.weight"), down=get(p + "ffn_down.weight"),
        )
        for b in ("q", "k", "v"):
            if p + f"attn_{b}.bias" in tensors:
                layer["b" + b] = get(p + f"attn_{b}.bias")
        layers.append(layer)
    head = get("output.weight") if "output.weight" in tensors else None
    # llama.cpp interleaves q/k rows for pairwise RoPE in llama and llada GGUFs (LLAMA_ROPE_TYPE_NORM).
    rope = "interleaved" if arch in ("llama", "llada") else "half"
    return Weights(cfg, get("token_embd.weight"), layers, get("output_norm.weight"), head, rope)


def load_hf(folder):
    # safetensors' torch loader reads BF16 too; the widening to float64 is exact.
    from safetensors.torch import load_file

    cfg_json = json.load(open(os.path.join(folder, "config.json")))
    t = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".safetensors"):
            for k, v in load_file(os.path.join(folder, name)).items():
                t[k] = v.double().numpy()
    hidden, heads = cfg_json["hidden_size"], cfg_json["num_attention_heads"]
    cfg = dict(
        hidden=hidden, heads=heads, kv_heads=cfg_json.get("num_key_value_heads", heads),
        head_dim=cfg_json.get("head_dim", hidden // heads), theta=float(cfg_json.get("rope_theta", 10000.0)),
        eps=float(cfg_json.get("rms_norm_eps", 1e-6)),
    )
    layers = []
    for i in range(cfg_json["num_hidden_layers"]):
        p = f"model.layers.{i}."
        layer = dict(
            norm1=t[p + "input_layernorm.weight"], q=t[p + "self_attn.q_proj.weight"],
            k=t[p + "self_attn.k_proj.weight"], v=t[p + "self_attn.v_proj.weight"],
            o=t[p + "self_attn.o_proj.weight"], norm2=t[p + "post_attention_layernorm.weight"],
            gate=t[p + "mlp.gate_proj.weight"], up=t[p + "mlp.up_proj.weight"], down=t[p + "mlp.down_proj.weight"],
        )
        for b in ("q", "k", "v"):
            if p + f"self_attn.{b}_proj.bias" in t:
                layer["b" + b] = t[p + f"self_attn.{b}_proj.bias"]
        layers.append(layer)
    head = None if cfg_json.get("tie_word_embeddings", False) else t["lm_head.weight"]
    return Weights(cfg, t["model.embed_tokens.weight"], layers, t["model.norm.weight"], head, "half")


def gguf_row_order(rows_hf, heads):
    """llama.cpp's q/k permutation: the GGUF matrix is rows_hf[gguf_row_order(...)]."""
    n = rows_hf.shape[0]
    d = n // heads
    index = np.arange(n).reshape(heads, 2, d // 2).swapaxes(1, 2).reshape(n)
    return rows_hf[index]


def merge_adapter(w: Weights, folder):
    """Applies docs/ADAPTER.md: W += alpha/r * B @ A (HF layout), norm and embedding-row replacement."""
    from safetensors.numpy import load_file

    manifest = json.load(open(os.path.join(folder, "manifest.json")))
    t = {k: v.astype(np.float64) for k, v in load_file(os.path.join(folder, "adapter.safetensors")).items()}
    scale = manifest["alpha"] / manifest["rank"]
    keys = {"self_attn.q_proj": "q", "self_attn.k_proj": "k", "self_attn.v_proj": "v", "self_attn.o_proj": "o",
            "mlp.gate_proj": "gate", "mlp.up_proj": "up", "mlp.down_proj": "down"}
    for i, layer in enumerate(w.layers):
        for hf, key in keys.items():
            a = t.get(f"model.layers.{i}.{hf}.lora_A")
            if a is None:
                continue
            delta = scale * (t[f"model.layers.{i}.{hf}.lora_B"] @ a)
            if w.rope == "interleaved" and key in ("q", "k"):
                delta = gguf_row_order(delta, w.cfg["heads"] if key == "q" else w.cfg["kv_heads"])
            layer[key] = layer[key] + delta
        for hf, key in (("input_layernorm", "norm1"), ("post_attention_layernorm", "norm2")):
            if f"model.layers.{i}.{hf}.weight" in t:
                layer[key] = t[f"model.layers.{i}.{hf}.weight"]
    if "model.norm.weight" in t:
        w.final_norm = t["model.norm.weight"]
    if "model.embed_tokens.rows" in t:
        tied = w.head is w.embed
        w.embed = w.embed.copy()
        for row, ident in zip(t["model.embed_tokens.rows"], t["model.embed_tokens.row_ids"].astype(np.int64)):
            w.embed[ident] = row
        if tied:
            w.head = w.embed
    return manifest


def rms_norm(x, weight, eps):
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps) * weight


def rope(x, positions, theta, style):
    """x: [L, heads, d]."""
    d = x.shape[-1]
    freq = theta ** (-np.arange(0, d, 2, dtype=np.float64) / d)
    angle = positions[:, None] * freq[None, :]  # [L, d/2]
    cos, sin = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]
    out = np.empty_like(x)
    if style == "interleaved":
        a, b = x[..., 0::2], x[..., 1::2]
        out[..., 0::2] = a * cos - b * sin
        out[..., 1::2] = a * sin + b * cos
    else:
        a, b = x[..., : d // 2], x[..., d // 2:]
        out[..., : d // 2] = a * cos - b * sin
        out[..., d // 2:] = b * cos + a * sin
    return out


def forward(w: Weights, ids, causal=True, rows=None):
    """Logits [len(rows), vocab] at output rows `rows` (default: all) of one sequence."""
    c = w.cfg
    ids = np.asarray(ids, dtype=np.int64)
    n = len(ids)
    d, nh, nkv = c["head_dim"], c["heads"], c["kv_heads"]
    x = w.embed[ids]
    pos = np.arange(n, dtype=np.float64)
    mask = np.triu(np.full((n, n), -np.inf), 1) if causal else np.zeros((n, n))
    for layer in w.layers:
        h = rms_norm(x, layer["norm1"], c["eps"])
        q = h @ layer["q"].T + layer.get("bq", 0)
        k = h @ layer["k"].T + layer.get("bk", 0)
        v = h @ layer["v"].T + layer.get("bv", 0)
        q = rope(q.reshape(n, nh, d), pos, c["theta"], w.rope)
        k = rope(k.reshape(n, nkv, d), pos, c["theta"], w.rope)
        v = v.reshape(n, nkv, d)
        out = np.empty((n, nh, d))
        for head in range(nh):
            kv = head // (nh // nkv)
            s = q[:, head] @ k[:, kv].T / np.sqrt(d) + mask
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            out[:, head] = s @ v[:, kv]
        x = x + out.reshape(n, nh * d) @ layer["o"].T
        h = rms_norm(x, layer["norm2"], c["eps"])
        g = h @ layer["gate"].T
        x = x + ((g / (1 + np.exp(-g))) * (h @ layer["up"].T)) @ layer["down"].T
    rows = list(range(n)) if rows is None else list(rows)
    return rms_norm(x[rows], w.final_norm, c["eps"]) @ w.head.T
