"""Independent readers of the published Dream-v0 and LLaDA-8B checkpoint layouts, for reference logits.

Shares no code with the Swift engine. Reads:
  Dream HF   config.json (model_type "Dream", Qwen2 keys), sharded safetensors through
             model.safetensors.index.json, Qwen2 tensor names with q/k/v biases, untied lm_head.
  LLaDA HF   config.json (model_type "llada", OLMo keys: d_model, n_heads, n_kv_heads, n_layers,
             mlp_hidden_size, weight_tying, embedding_size), tensors model.transformer.wte,
             model.transformer.blocks.N.{attn_norm,q_proj,k_proj,v_proj,attn_out,ff_norm,ff_proj,
             up_proj,ff_out}, model.transformer.ln_f, model.transformer.ff_out (head).
  GGUF       `dream` / `llada` through reference.load_gguf (the `gguf` package dequantises).
and runs reference.forward (float64 numpy). The denoiser's conventions are applied here too:
Dream's logit shift (the token at position i is read from output row i-1, row 0 for i = 0), none
for LLaDA.
"""
from __future__ import annotations

import json
import os

import numpy as np

import reference


def _load_shards(folder):
    from safetensors.torch import load_file

    index = os.path.join(folder, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else \
        sorted(f for f in os.listdir(folder) if f.endswith(".safetensors"))
    t = {}
    for name in files:
        for k, v in load_file(os.path.join(folder, name)).items():
            t[k] = v.double().numpy()
    return t


def load_dream_hf(folder):
    cfg_json = json.load(open(os.path.join(folder, "config.json")))
    assert cfg_json["model_type"] == "Dream"
    t = _load_shards(folder)
    hidden, heads = cfg_json["hidden_size"], cfg_json["num_attention_heads"]
    cfg = dict(hidden=hidden, heads=heads, kv_heads=cfg_json["num_key_value_heads"], head_dim=hidden // heads,
               theta=float(cfg_json["rope_theta"]), eps=float(cfg_json["rms_norm_eps"]))
    layers = []
    for i in range(cfg_json["num_hidden_layers"]):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        layers.append(dict(
            norm1=t[p + "input_layernorm.weight"], q=t[a + "q_proj.weight"], k=t[a + "k_proj.weight"],
            v=t[a + "v_proj.weight"], bq=t[a + "q_proj.bias"], bk=t[a + "k_proj.bias"], bv=t[a + "v_proj.bias"],
            o=t[a + "o_proj.weight"], norm2=t[p + "post_attention_layernorm.weight"],
            gate=t[p + "mlp.gate_proj.weight"], up=t[p + "mlp.up_proj.weight"], down=t[p + "mlp.down_proj.weight"]))
    return reference.Weights(cfg, t["model.embed_tokens.weight"], layers, t["model.norm.weight"], t["lm_head.weight"], "half")


def load_llada_hf(folder):
    cfg_json = json.load(open(os.path.join(folder, "config.json")))
    assert cfg_json["model_type"] == "llada"
    t = _load_shards(folder)
    hidden, heads = cfg_json["d_model"], cfg_json["n_heads"]
    cfg = dict(hidden=hidden, heads=heads, kv_heads=cfg_json.get("n_kv_heads") or heads, head_dim=hidden // heads,
               theta=float(cfg_json["rope_theta"]), eps=float(cfg_json["rms_norm_eps"]))
    layers = []
    for i in range(cfg_json["n_layers"]):
        p = f"model.transformer.blocks.{i}."
        layers.append(dict(
            norm1=t[p + "attn_norm.weight"], q=t[p + "q_proj.weight"], k=t[p + "k_proj.weight"],
            v=t[p + "v_proj.weight"], o=t[p + "attn_out.weight"], norm2=t[p + "ff_norm.weight"],
            gate=t[p + "ff_proj.weight"], up=t[p + "up_proj.weight"], down=t[p + "ff_out.weight"]))
    head = t["model.transformer.wte.weight"] if cfg_json.get("weight_tying") else t["model.transformer.ff_out.weight"]
    return reference.Weights(cfg, t["model.transformer.wte.weight"], layers, t["model.transformer.ln_f.weight"], head, "half")


def output_rows(positions, shift):
    """The output row each position's distribution is read from."""
    return [max(p - 1, 0) if shift else p for p in positions]


def denoise(w, tokens, positions, shift):
    """Logits of the tokens at `positions` under bidirectional attention and the model's shift."""
    return reference.forward(w, tokens, causal=False, rows=output_rows(positions, shift))
