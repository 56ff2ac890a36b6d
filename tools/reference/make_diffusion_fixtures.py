"""Writes tiny random checkpoints in the published Dream-v0 and LLaDA-8B layouts, and their
reference logits, into Tests/Fixtures/.

    python3 tools/reference/make_diffusion_fixtures.py

Outputs (seeded, reproducible, tens of KB each):
  tiny-dream/        HF folder as Dream-v0-Instruct-7B publishes it: config.json (model_type
                     "Dream", Qwen2 keys, mask_token_id, vocab padded past the tokenizer),
                     generation_config.json, two BF16 shards + model.safetensors.index.json,
                     tokenizer.json (<|mask|> special token)
  tiny-llada/        HF folder as LLaDA-8B-Instruct publishes it: OLMo-style config.json
                     (model_type "llada", d_model, n_heads, ..., embedding_size > vocab_size),
                     two BF16 shards + index, tokenizer.json (<|mdm_mask|>, <|eot_id|>)
  tiny-dream.gguf    the tiny-dream weights as llama.cpp's converter writes a `dream` GGUF,
                     matrices in Q4_K, Q6_K, Q5_0, Q5_1, Q8_0, F16 and BF16
  tiny-llada.gguf    the tiny-llada weights as a `llada` GGUF (q/k rows interleaved as the converter
                     permutes them), matrices in Q5_K, Q6_K, Q5_0, Q5_1, Q8_0, F16 and BF16
  diffusion-reference.json   reference logits (tools/reference/diffusion_reference.py, float64 numpy)

Sizes are chosen so k-quants apply: the MLP width is 256 in the GGUFs (the down projection's rows
are one super-block); the HF folders use a narrower MLP to stay small.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import diffusion_reference  # noqa: E402
import kquants  # noqa: E402
import reference  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures")
CORPUS = """The quick brown fox jumps over the lazy dog. A product brief describes the battery and the price.
Our weekly status update: the team shipped the new release. Dear hiring manager, I am writing to apply.
"""
DREAM_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|mask|>"]
LLADA_SPECIALS = ["<|endoftext|>", "<|startoftext|>", "<|eot_id|>", "<|mdm_mask|>"]
DREAM = dict(hidden=32, heads=4, kv_heads=2, head_dim=8, layers=2, theta=1000000.0, eps=1e-6, context=128)
LLADA = dict(hidden=32, heads=4, kv_heads=4, head_dim=8, layers=2, theta=500000.0, eps=1e-5, context=128)
PADDED_VOCAB = 336  # rows of the embedding and head; the tokenizers have 320 tokens


def train_tokenizer(specials):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([CORPUS] * 4, trainer)
    return tok


def random_weights(rng, cfg, ff, bias):
    """HF Llama/Qwen2-named float32 weights (the names tiny-dream keeps; tiny-llada renames them)."""
    h, d = cfg["hidden"], cfg["head_dim"]
    q, kv = cfg["heads"] * d, cfg["kv_heads"] * d
    t = {"model.embed_tokens.weight": rng.normal(0, 0.5, (PADDED_VOCAB, h)),
         "model.norm.weight": 1 + rng.normal(0, 0.1, h),
         "lm_head.weight": rng.normal(0, 1 / np.sqrt(h), (PADDED_VOCAB, h))}
    for i in range(cfg["layers"]):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = 1 + rng.normal(0, 0.1, h)
        t[p + "post_attention_layernorm.weight"] = 1 + rng.normal(0, 0.1, h)
        for name, shape in (("self_attn.q_proj", (q, h)), ("self_attn.k_proj", (kv, h)), ("self_attn.v_proj", (kv, h)),
                            ("self_attn.o_proj", (h, q)), ("mlp.gate_proj", (ff, h)), ("mlp.up_proj", (ff, h)),
                            ("mlp.down_proj", (h, ff))):
            t[p + name + ".weight"] = rng.normal(0, 1 / np.sqrt(shape[1]), shape)
        if bias:
            for name, n in (("q_proj", q), ("k_proj", kv), ("v_proj", kv)):
                t[p + f"self_attn.{name}.bias"] = rng.normal(0, 0.2, n)
    return {k: v.astype(np.float32) for k, v in t.items()}


LLADA_NAMES = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ff_norm", "self_attn.q_proj": "q_proj",
               "self_attn.k_proj": "k_proj", "self_attn.v_proj": "v_proj", "self_attn.o_proj": "attn_out",
               "mlp.gate_proj": "ff_proj", "mlp.up_proj": "up_proj", "mlp.down_proj": "ff_out"}


def llada_name(name):
    outer = {"model.embed_tokens.weight": "model.transformer.wte.weight", "model.norm.weight": "model.transformer.ln_f.weight",
             "lm_head.weight": "model.transformer.ff_out.weight"}
    if name in outer:
        return outer[name]
    _, _, i, rest = name.split(".", 3)
    module, kind = rest.rsplit(".", 1)
    return f"model.transformer.blocks.{i}.{LLADA_NAMES[module]}.{kind}"


def save_sharded(folder, tensors):
    """Two BF16 shards and the index, as `save_pretrained` writes them."""
    import torch
    from safetensors.torch import save_file

    names = sorted(tensors)
    shards = {"model-00001-of-00002.safetensors": names[: len(names) // 2],
              "model-00002-of-00002.safetensors": names[len(names) // 2:]}
    weight_map = {}
    total = 0
    for file, keys in shards.items():
        save_file({k: torch.from_numpy(tensors[k]).to(torch.bfloat16) for k in keys}, os.path.join(folder, file),
                  metadata={"format": "pt"})
        for k in keys:
            weight_map[k] = file
            total += tensors[k].size * 2
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map},
              open(os.path.join(folder, "model.safetensors.index.json"), "w"), indent=2)


def fresh(folder):
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))


def write_dream_hf(folder, w, cfg, ff, tok):
    fresh(folder)
    json.dump({
        "architectures": ["DreamModel"], "model_type": "Dream", "hidden_act": "silu", "hidden_size": cfg["hidden"],
        "intermediate_size": ff, "num_hidden_layers": cfg["layers"], "num_attention_heads": cfg["heads"],
        "num_key_value_heads": cfg["kv_heads"], "rope_theta": cfg["theta"], "rms_norm_eps": cfg["eps"],
        "max_position_embeddings": cfg["context"], "tie_word_embeddings": False, "rope_scaling": None,
        "vocab_size": PADDED_VOCAB, "bos_token_id": 0, "eos_token_id": 0, "pad_token_id": 0,
        "mask_token_id": DREAM_SPECIALS.index("<|mask|>"), "torch_dtype": "bfloat16", "use_sliding_window": False,
    }, open(os.path.join(folder, "config.json"), "w"), indent=2)
    json.dump({"bos_token_id": 0, "eos_token_id": 0, "pad_token_id": 0},
              open(os.path.join(folder, "generation_config.json"), "w"), indent=2)
    save_sharded(folder, w)
    tok.save(os.path.join(folder, "tokenizer.json"))


def write_llada_hf(folder, w, cfg, ff, tok):
    fresh(folder)
    json.dump({
        "architectures": ["LLaDAModelLM"], "model_type": "llada", "activation_type": "silu", "alibi": False,
        "attention_layer_norm": False, "block_type": "llama", "d_model": cfg["hidden"], "n_heads": cfg["heads"],
        "n_kv_heads": cfg["kv_heads"], "n_layers": cfg["layers"], "mlp_hidden_size": ff, "mlp_ratio": 4,
        "rope": True, "rope_theta": cfg["theta"], "rms_norm_eps": cfg["eps"], "layer_norm_type": "rms",
        "max_sequence_length": cfg["context"], "vocab_size": 320, "embedding_size": PADDED_VOCAB,
        "weight_tying": False, "include_bias": False, "include_qkv_bias": False, "scale_logits": False,
        "input_emb_norm": False, "eos_token_id": 0, "pad_token_id": 0,
        "mask_token_id": LLADA_SPECIALS.index("<|mdm_mask|>"), "torch_dtype": "bfloat16",
    }, open(os.path.join(folder, "config.json"), "w"), indent=2)
    save_sharded(folder, {llada_name(k): v for k, v in w.items()})
    tok.save(os.path.join(folder, "tokenizer.json"))


def bf16_round(w):
    import torch
    return {k: torch.from_numpy(v).to(torch.bfloat16).float().numpy() for k, v in w.items()}


def tokenizer_lists(tok, specials):
    data = json.loads(tok.to_str())
    vocab = data["model"]["vocab"]
    tokens = [None] * len(vocab)
    for text, ident in vocab.items():
        tokens[ident] = text
    merges = [m if isinstance(m, str) else " ".join(m) for m in data["model"]["merges"]]
    return tokens, merges, [3 if t in specials else 1 for t in tokens]


def write_gguf(path, arch, w, cfg, ff, tok, specials, types, shift):
    """A `dream` or `llada` GGUF with llama.cpp's names; `types` maps HF name → storage type."""
    import gguf

    tokens, merges, token_types = tokenizer_lists(tok, specials)
    g = gguf.GGUFWriter(path, arch)
    g.add_name(f"tiny-{arch}")
    g.add_block_count(cfg["layers"])
    g.add_context_length(cfg["context"])
    g.add_embedding_length(cfg["hidden"])
    g.add_feed_forward_length(ff)
    g.add_head_count(cfg["heads"])
    g.add_head_count_kv(cfg["kv_heads"])
    g.add_rope_freq_base(cfg["theta"])
    g.add_layer_norm_rms_eps(cfg["eps"])
    g.add_vocab_size(PADDED_VOCAB)
    g.add_causal_attention(False)
    g.add_diffusion_shift_logits(shift)
    g.add_tokenizer_model("gpt2")
    g.add_tokenizer_pre("gpt2")
    g.add_token_list(tokens)
    g.add_token_types(token_types)
    g.add_token_merges(merges)
    g.add_eos_token_id(0)
    g.add_mask_token_id(specials.index("<|mask|>" if arch == "dream" else "<|mdm_mask|>"))
    names = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}
    outer = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    for name in sorted(w):
        array = w[name]
        if name in outer:
            gname = outer[name]
        else:
            _, _, i, rest = name.split(".", 3)
            module, kind = rest.rsplit(".", 1)
            gname = f"blk.{i}.{names[module]}.{kind}"
            if arch == "llada" and module in ("self_attn.q_proj", "self_attn.k_proj"):
                array = reference.gguf_row_order(array, cfg["heads"] if "q_proj" in module else cfg["kv_heads"])
        t = types.get(name, "F32")
        array = np.ascontiguousarray(array, dtype=np.float32)
        if t == "F32" or array.ndim == 1:
            g.add_tensor(gname, array)
        elif t == "F16":
            g.add_tensor(gname, array.astype(np.float16))
        else:
            qtype = gguf.GGMLQuantizationType[t]
            g.add_tensor(gname, np.asarray(kquants.quantize(array, t), dtype=np.uint8), raw_dtype=qtype)
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()


def layer_types(per_layer, outer):
    types = dict(outer)
    for i, layer in enumerate(per_layer):
        for module, t in layer.items():
            types[f"model.layers.{i}.{module}.weight"] = t
    return types


def main():
    rng = np.random.default_rng(20261201)
    dream_tok = train_tokenizer(DREAM_SPECIALS)
    llada_tok = train_tokenizer(LLADA_SPECIALS)
    assert dream_tok.get_vocab_size() == 320 and llada_tok.get_vocab_size() == 320

    hf_ff, gguf_ff = 64, 256
    dream_hf = random_weights(rng, DREAM, hf_ff, bias=True)
    llada_hf = random_weights(rng, LLADA, hf_ff, bias=False)
    write_dream_hf(os.path.join(OUT, "tiny-dream"), dream_hf, DREAM, hf_ff, dream_tok)
    write_llada_hf(os.path.join(OUT, "tiny-llada"), llada_hf, LLADA, hf_ff, llada_tok)

    dream_g = random_weights(rng, DREAM, gguf_ff, bias=True)
    llada_g = random_weights(rng, LLADA, gguf_ff, bias=False)
    dream_types = layer_types(
        [{"self_attn.q_proj": "Q5_0", "self_attn.k_proj": "Q5_1", "self_attn.v_proj": "Q8_0", "self_attn.o_proj": "F16",
          "mlp.gate_proj": "Q5_1", "mlp.up_proj": "Q5_0", "mlp.down_proj": "Q4_K"},
         {"self_attn.q_proj": "BF16", "self_attn.k_proj": "F16", "self_attn.v_proj": "Q5_0", "self_attn.o_proj": "Q5_1",
          "mlp.gate_proj": "Q8_0", "mlp.up_proj": "BF16", "mlp.down_proj": "Q6_K"}],
        {"model.embed_tokens.weight": "Q8_0", "lm_head.weight": "F16"})
    llada_types = layer_types(
        [{"self_attn.q_proj": "Q5_1", "self_attn.k_proj": "Q5_0", "self_attn.v_proj": "BF16", "self_attn.o_proj": "Q8_0",
          "mlp.gate_proj": "Q5_0", "mlp.up_proj": "Q5_1", "mlp.down_proj": "Q5_K"},
         {"self_attn.q_proj": "Q8_0", "self_attn.k_proj": "BF16", "self_attn.v_proj": "Q5_1", "self_attn.o_proj": "Q5_0",
          "mlp.gate_proj": "F16", "mlp.up_proj": "Q8_0", "mlp.down_proj": "Q6_K"}],
        {"model.embed_tokens.weight": "Q5_0", "lm_head.weight": "Q8_0"})
    write_gguf(os.path.join(OUT, "tiny-dream.gguf"), "dream", dream_g, DREAM, gguf_ff, dream_tok, DREAM_SPECIALS,
               dream_types, shift=True)
    write_gguf(os.path.join(OUT, "tiny-llada.gguf"), "llada", llada_g, LLADA, gguf_ff, llada_tok, LLADA_SPECIALS,
               llada_types, shift=False)

    # Reference logits: each file read back by the independent readers.
    models = {
        "tiny-dream": (diffusion_reference.load_dream_hf(os.path.join(OUT, "tiny-dream")), True, dream_tok, 3),
        "tiny-llada": (diffusion_reference.load_llada_hf(os.path.join(OUT, "tiny-llada")), False, llada_tok, 3),
        "tiny-dream.gguf": (reference.load_gguf(os.path.join(OUT, "tiny-dream.gguf")), True, dream_tok, 3),
        "tiny-llada.gguf": (reference.load_gguf(os.path.join(OUT, "tiny-llada.gguf")), False, llada_tok, 3),
    }
    # The HF readers must see exactly the BF16-rounded weights that were written.
    assert np.allclose(models["tiny-dream"][0].embed, bf16_round(dream_hf)["model.embed_tokens.weight"])
    text = "The team shipped the new release."
    cases = []
    for name, (w, shift, tok, mask) in models.items():
        ids = tok.encode(text).ids
        last = len(ids) - 1
        cases.append({"model": name, "kind": "forward", "tokens": ids, "rows": [0, 2, last], "shift": shift,
                      "logits": [[round(float(x), 6) for x in row]
                                 for row in reference.forward(w, ids, causal=False, rows=[0, 2, last])]})
        masked = list(ids)
        positions = [1, 4, last]
        for p in positions:
            masked[p] = mask
        logits = diffusion_reference.denoise(w, masked, positions, shift)
        cases.append({"model": name, "kind": "denoise", "tokens": masked, "rows": positions, "shift": shift,
                      "logits": [[round(float(x), 6) for x in row] for row in logits]})
    json.dump({"generator": "tools/reference/make_diffusion_fixtures.py", "text": text, "cases": cases},
              open(os.path.join(OUT, "diffusion-reference.json"), "w"))
    for f in ["tiny-dream", "tiny-llada", "tiny-dream.gguf", "tiny-llada.gguf", "diffusion-reference.json"]:
        p = os.path.join(OUT, f)
        size = sum(os.path.getsize(os.path.join(p, x)) for x in os.listdir(p)) if os.path.isdir(p) else os.path.getsize(p)
        print(f"{f}: {size} bytes")


if __name__ == "__main__":
    main()
