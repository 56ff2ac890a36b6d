"""Writes Infill's tiny model fixtures and their reference logits into Tests/Fixtures/.

    python3 tools/reference/make_fixtures.py

Outputs (all small, seeded, reproducible):
  tiny-llama.gguf            F32 llama, GQA, tied head, gpt2 BPE tokenizer in metadata, infill ids
  tiny-llama-{f16,bf16,q8_0,q4_0,q4_1}.gguf   the same weights stored in other types
  tiny-qwen2/                HF folder: config.json, 2 safetensors shards (F32 + BF16), q/k/v biases,
                             untied head, tokenizer.json
  tiny-llama-hf/             the tiny-llama weights as an HF llama folder: one F16 shard, tied head
  tiny-adapter/              LoRA adapter for tiny-llama (docs/ADAPTER.md format)
  tiny-reference.json        reference logits from tools/reference/reference.py (float64 numpy)
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import reference  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<empty_output>"]
CORPUS = """The quick brown fox jumps over the lazy dog. A product brief describes the battery, the light
and the price. Our weekly status update: the team shipped the new release, fixed bugs and wrote
documents. The capital of France is Paris. Numbers like 2026 and 42 appear in reports. Dear hiring
manager, I am writing to apply for the role. The incident started at noon and ended at one.
"""


def train_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False)
    tok.train_from_iterator([CORPUS] * 4, trainer)
    return tok


def tokenizer_lists(tok):
    data = json.loads(tok.to_str())
    vocab = data["model"]["vocab"]
    tokens = [None] * len(vocab)
    for text, ident in vocab.items():
        tokens[ident] = text
    merges = [m if isinstance(m, str) else " ".join(m) for m in data["model"]["merges"]]
    types = [3 if t in SPECIALS else 1 for t in tokens]
    return tokens, merges, types


def random_hf_llama(rng, vocab, cfg, bias=False, tied=True):
    h, ff, d = cfg["hidden"], cfg["ff"], cfg["head_dim"]
    q, kv = cfg["heads"] * d, cfg["kv_heads"] * d
    t = {"model.embed_tokens.weight": rng.normal(0, 0.5, (vocab, h)), "model.norm.weight": 1 + rng.normal(0, 0.1, h)}
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
    if not tied:
        t["lm_head.weight"] = rng.normal(0, 1 / np.sqrt(h), (vocab, h))
    return {k: v.astype(np.float32) for k, v in t.items()}


def write_gguf(path, hf, cfg, tokens, merges, types, qtype):
    import gguf
    from gguf import quants

    w = gguf.GGUFWriter(path, "llama")
    w.add_name("tiny-llama")
    w.add_block_count(cfg["layers"])
    w.add_context_length(cfg["context"])
    w.add_embedding_length(cfg["hidden"])
    w.add_feed_forward_length(cfg["ff"])
    w.add_head_count(cfg["heads"])
    w.add_head_count_kv(cfg["kv_heads"])
    w.add_rope_freq_base(cfg["theta"])
    w.add_rope_dimension_count(cfg["head_dim"])
    w.add_layer_norm_rms_eps(cfg["eps"])
    w.add_vocab_size(len(tokens))
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_uint32("infill.mask_token_id", SPECIALS.index("<empty_output>"))
    w.add_uint32("infill.null_token_id", SPECIALS.index("<|endoftext|>"))
    w.add_bool("infill.logit_shift", True)
    # A value of every remaining GGUF metadata type, so the reader's decoding of each is exercised.
    w.add_int8("infill.test.int8", -5)
    w.add_uint8("infill.test.uint8", 250)
    w.add_int16("infill.test.int16", -300)
    w.add_uint16("infill.test.uint16", 60000)
    w.add_int32("infill.test.int32", -70000)
    w.add_int64("infill.test.int64", -(2**40))
    w.add_uint64("infill.test.uint64", 2**41)
    w.add_float64("infill.test.float64", 0.125)
    w.add_array("infill.test.nested", [[1, 2], [3]])

    def add(name, array, two_d=True):
        array = np.ascontiguousarray(array, dtype=np.float32)
        if not two_d or qtype == "F32":
            w.add_tensor(name, array)
        elif qtype == "F16":
            w.add_tensor(name, array.astype(np.float16))
        else:
            t = gguf.GGMLQuantizationType[qtype]
            w.add_tensor(name, quants.quantize(array, t), raw_dtype=t)

    names = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down"}
    add("token_embd.weight", hf["model.embed_tokens.weight"])
    add("output_norm.weight", hf["model.norm.weight"], two_d=False)
    for i in range(cfg["layers"]):
        p = f"model.layers.{i}."
        add(f"blk.{i}.attn_norm.weight", hf[p + "input_layernorm.weight"], two_d=False)
        add(f"blk.{i}.ffn_norm.weight", hf[p + "post_attention_layernorm.weight"], two_d=False)
        for hfname, gname in names.items():
            m = hf[p + hfname + ".weight"]
            if gname == "attn_q":
                m = reference.gguf_row_order(m, cfg["heads"])
            elif gname == "attn_k":
                m = reference.gguf_row_order(m, cfg["kv_heads"])
            add(f"blk.{i}.{gname}.weight", m)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_qwen2(folder, hf, cfg, tok):
    from safetensors.numpy import save_file

    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    json.dump({
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": len(tok.get_vocab()),
        "hidden_size": cfg["hidden"], "intermediate_size": cfg["ff"], "num_hidden_layers": cfg["layers"],
        "num_attention_heads": cfg["heads"], "num_key_value_heads": cfg["kv_heads"], "rope_theta": cfg["theta"],
        "rms_norm_eps": cfg["eps"], "max_position_embeddings": cfg["context"], "tie_word_embeddings": False,
        "eos_token_id": 0, "mask_token_id": 3, "torch_dtype": "float32",
    }, open(os.path.join(folder, "config.json"), "w"), indent=2)
    names = sorted(hf)
    first = {k: hf[k] for k in names[: len(names) // 2]}
    # The second shard in BF16 (exact for the reference: it reads the same rounded values back).
    import torch
    second = {k: torch.from_numpy(hf[k]).to(torch.bfloat16) for k in names[len(names) // 2:]}
    save_file(first, os.path.join(folder, "model-00001-of-00002.safetensors"))
    from safetensors.torch import save_file as save_torch
    save_torch(second, os.path.join(folder, "model-00002-of-00002.safetensors"))
    tok.save(os.path.join(folder, "tokenizer.json"))


def write_hf_llama(folder, hf, cfg, tok):
    from safetensors.numpy import save_file

    os.makedirs(folder, exist_ok=True)
    json.dump({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": len(tok.get_vocab()),
        "hidden_size": cfg["hidden"], "intermediate_size": cfg["ff"], "num_hidden_layers": cfg["layers"],
        "num_attention_heads": cfg["heads"], "num_key_value_heads": cfg["kv_heads"], "rope_theta": cfg["theta"],
        "rms_norm_eps": cfg["eps"], "max_position_embeddings": cfg["context"], "tie_word_embeddings": True,
        "attention_bias": False, "eos_token_id": 0, "rope_scaling": None, "torch_dtype": "float16",
    }, open(os.path.join(folder, "config.json"), "w"), indent=2)
    save_file({k: v.astype(np.float16) for k, v in hf.items()}, os.path.join(folder, "model.safetensors"))
    tok.save(os.path.join(folder, "tokenizer.json"))


def write_adapter(folder, hf, cfg, rng):
    from safetensors.numpy import save_file

    os.makedirs(folder, exist_ok=True)
    rank, alpha = 4, 8
    h, ff, d = cfg["hidden"], cfg["ff"], cfg["head_dim"]
    q, kv = cfg["heads"] * d, cfg["kv_heads"] * d
    shapes = {"self_attn.q_proj": (q, h), "self_attn.k_proj": (kv, h), "self_attn.v_proj": (kv, h),
              "mlp.gate_proj": (ff, h), "mlp.down_proj": (h, ff)}
    t = {}
    for i in range(cfg["layers"]):
        for name, (out, inp) in shapes.items():
            t[f"model.layers.{i}.{name}.lora_A"] = rng.normal(0, 0.3, (rank, inp))
            t[f"model.layers.{i}.{name}.lora_B"] = rng.normal(0, 0.3, (out, rank))
    t["model.layers.0.input_layernorm.weight"] = 1 + rng.normal(0, 0.2, h)
    t["model.norm.weight"] = 1 + rng.normal(0, 0.2, h)
    t["model.embed_tokens.rows"] = rng.normal(0, 0.5, (1, h))
    t = {k: v.astype(np.float32) for k, v in t.items()}
    t["model.embed_tokens.row_ids"] = np.array([3], dtype=np.int64)
    save_file(t, os.path.join(folder, "adapter.safetensors"))
    json.dump({
        "name": "tiny-adapter", "base": {"file": "tiny-llama.gguf", "sha256": None}, "mask_token_id": 3,
        "null_token_id": 0, "logit_shift": True, "attention": "bidirectional", "rank": rank, "alpha": alpha,
        "training_tokens": 0, "date": "2026-11-29",
    }, open(os.path.join(folder, "manifest.json"), "w"), indent=2)


def main():
    rng = np.random.default_rng(20261129)
    tok = train_tokenizer()
    tokens, merges, types = tokenizer_lists(tok)
    vocab = len(tokens)
    cfg = dict(hidden=64, ff=128, layers=2, heads=4, kv_heads=2, head_dim=16, theta=10000.0, eps=1e-5, context=256)
    llama = random_hf_llama(rng, vocab, cfg)
    variants = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1"]
    for v in variants:
        name = "tiny-llama.gguf" if v == "F32" else f"tiny-llama-{v.lower()}.gguf"
        write_gguf(os.path.join(OUT, name), llama, cfg, tokens, merges, types, v)
    qcfg = dict(cfg, heads=4, kv_heads=1, theta=1000000.0, eps=1e-6)
    qwen = random_hf_llama(rng, vocab, qcfg, bias=True, tied=False)
    write_qwen2(os.path.join(OUT, "tiny-qwen2"), qwen, qcfg, tok)
    write_adapter(os.path.join(OUT, "tiny-adapter"), llama, cfg, rng)
    write_hf_llama(os.path.join(OUT, "tiny-llama-hf"), llama, cfg, tok)

    text = "The capital of France is Paris. The team shipped 42 documents."
    ids = tok.encode(text).ids
    short = ids[:7]
    cases = []

    def case(model, weights, seq, causal, rows, adapter=None):
        logits = reference.forward(weights, seq, causal=causal, rows=rows)
        cases.append({"model": model, "adapter": adapter, "tokens": [int(i) for i in seq],
                      "attention": "causal" if causal else "bidirectional", "rows": rows,
                      "logits": [[round(float(x), 6) for x in row] for row in logits]})

    for v in variants:
        name = "tiny-llama.gguf" if v == "F32" else f"tiny-llama-{v.lower()}.gguf"
        w = reference.load_gguf(os.path.join(OUT, name))
        case(name, w, ids, True, [0, 5, len(ids) - 1])
        if v == "F32":
            case(name, w, ids, False, [1, len(ids) - 1])
            case(name, w, short, True, [6])
    w = reference.load_hf(os.path.join(OUT, "tiny-qwen2"))
    case("tiny-qwen2", w, ids, True, [0, len(ids) - 1])
    case("tiny-qwen2", w, short, False, [2, 6])
    w = reference.load_hf(os.path.join(OUT, "tiny-llama-hf"))
    case("tiny-llama-hf", w, ids, True, [3, len(ids) - 1])
    w = reference.load_gguf(os.path.join(OUT, "tiny-llama.gguf"))
    reference.merge_adapter(w, os.path.join(OUT, "tiny-adapter"))
    masked = list(ids[:10])
    masked[4] = 3
    masked[6] = 3
    case("tiny-llama.gguf", w, masked, False, [3, 5, 9], adapter="tiny-adapter")
    json.dump({"generator": "tools/reference/make_fixtures.py", "text": text, "cases": cases},
              open(os.path.join(OUT, "tiny-reference.json"), "w"))
    print(f"vocab {vocab}, {len(cases)} cases, text ids {ids}")


if __name__ == "__main__":
    main()
