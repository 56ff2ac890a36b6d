"""Fast unit tests for the training code on a tiny random Llama (no GGUF needed).

  python3 -m pytest training/test_training.py -q
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gguf_base import LlamaConfig, MASK_ID, NULL_ID, _unpermute  # noqa: E402
from model import build_model, LINEARS  # noqa: E402
from data import DiffusionBatcher  # noqa: E402
from adapter_io import adapter_tensors, load_adapter_into, merged_state_dict  # noqa: E402

CFG = LlamaConfig(vocab_size=64, hidden=16, intermediate=24, layers=2, heads=4, kv_heads=2,
                  rope_theta=10000.0, rms_eps=1e-5)


def tiny_sd(seed=0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    c = CFG
    sd = {"model.embed_tokens.weight": torch.randn(c.vocab_size, c.hidden, generator=g),
          "model.norm.weight": 1 + 0.1 * torch.randn(c.hidden, generator=g)}
    kv = c.kv_heads * c.head_dim
    shapes = {"self_attn.q_proj": (c.hidden, c.hidden), "self_attn.k_proj": (kv, c.hidden),
              "self_attn.v_proj": (kv, c.hidden), "self_attn.o_proj": (c.hidden, c.hidden),
              "mlp.gate_proj": (c.intermediate, c.hidden), "mlp.up_proj": (c.intermediate, c.hidden),
              "mlp.down_proj": (c.hidden, c.intermediate)}
    for i in range(c.layers):
        for n, s in shapes.items():
            sd[f"model.layers.{i}.{n}.weight"] = 0.3 * torch.randn(*s, generator=g)
        sd[f"model.layers.{i}.input_layernorm.weight"] = 1 + 0.1 * torch.randn(c.hidden, generator=g)
        sd[f"model.layers.{i}.post_attention_layernorm.weight"] = 1 + 0.1 * torch.randn(c.hidden, generator=g)
    return sd


def llamacpp_permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """What llama.cpp's HF->GGUF conversion does to q/k rows (reference for the inverse)."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
             .swapaxes(1, 2).reshape(w.shape))


def test_unpermute_inverts_llamacpp_permutation():
    w = np.arange(12 * 5, dtype=np.float32).reshape(12, 5)
    assert np.array_equal(_unpermute(llamacpp_permute(w, 3), 3), w)
    assert not np.array_equal(llamacpp_permute(w, 3), w)


def test_batcher_never_masks_position_zero_and_builds_null_gaps():
    rng = np.random.default_rng(0)
    docs = [rng.integers(20, 64, size=400).astype(np.int32) for _ in range(3)]
    b = DiffusionBatcher(docs, 32, seed=1, max_gap=8).sample(64)
    assert not b.masked[:, 0].any()
    assert (b.ids[b.masked] == MASK_ID).all()
    assert (b.ids[~b.masked] == b.targets[~b.masked]).all()
    assert (b.weight[~b.masked] == 0).all() and (b.weight[b.masked] > 0).all()
    gaps = [i for i, m in enumerate(b.modes) if m == "gap"]
    assert gaps, "expected some gap examples in 64 draws"
    # a null run in a gap example is contiguous (it pads the span's tail)
    for i in gaps:
        nulls = (b.targets[i] == NULL_ID).nonzero().flatten()
        if len(nulls):
            assert int(nulls[-1] - nulls[0]) + 1 == len(nulls)


def test_context_weight_prefers_tokens_near_context():
    docs = [np.arange(20, 60, dtype=np.int32)]
    bt = DiffusionBatcher(docs, 32, seed=0, mode_probs=(0, 1, 0))
    b = bt.sample(16)
    for i in range(16):
        pos = b.masked[i].nonzero().flatten()
        if len(pos) >= 5 and int(pos[0]) >= 8 and int(pos[-1]) <= 23:  # context on both sides
            w = b.weight[i, pos]
            mid = len(pos) // 2
            assert max(float(w[0]), float(w[-1])) > float(w[mid])


def test_adapter_round_trip_and_merge_match_lora_logits(tmp_path):
    sd = tiny_sd()
    torch.manual_seed(0)
    m = build_model(CFG, sd, rank=4, alpha=8.0, fp32=True)
    with torch.no_grad():
        for n, p in m.named_parameters():
            p.add_(0.05 * torch.randn_like(p))
    ids = torch.tensor([[3, 5, MASK_ID, MASK_ID, 9, 11, MASK_ID, 7]])
    pos = torch.tensor([[2, 3, 6]])
    ref = m.logits_at(ids, pos)
    from safetensors.torch import save_file
    save_file(adapter_tensors(m), str(tmp_path / "adapter.safetensors"))
    m2 = build_model(CFG, sd, rank=4, alpha=8.0, fp32=True)
    load_adapter_into(m2, tmp_path)
    assert torch.allclose(m2.logits_at(ids, pos), ref, atol=1e-5)
    merged = merged_state_dict(sd, adapter_tensors(m), 4, 8.0)
    mm = build_model(CFG, merged, rank=0, fp32=True)
    out = mm.logits_at(ids, pos)
    finite = torch.isfinite(ref)
    # the merged model's head uses the replaced mask row, like an engine with a tied head
    assert torch.allclose(out[finite], ref[finite], atol=1e-4)
    assert set(adapter_tensors(m)) >= {f"model.layers.0.{n}.lora_A" for n in LINEARS}


def test_logit_shift_reads_previous_position_and_attention_is_bidirectional():
    m = build_model(CFG, tiny_sd(1), rank=0, fp32=True)
    ids = torch.tensor([[3, 5, MASK_ID, 9, 11]])
    h = m.hidden(ids)
    assert torch.allclose(m.logits_at(ids, torch.tensor([[2]]))[0, 0], m.logits_from_hidden(h[0, 1]), atol=1e-6)
    changed = ids.clone(); changed[0, 4] = 12
    assert not torch.allclose(m.hidden(changed)[0, 0], h[0, 0])   # a later token changes position 0
    m.causal_layers = CFG.layers
    assert torch.allclose(m.hidden(changed)[0, 0], m.hidden(ids)[0, 0])
