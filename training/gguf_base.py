"""Load the SmolLM2 base GGUF into Hugging Face layout and build its tokenizer.

The GGUF stores q/k projection rows in llama.cpp's interleaved RoPE order; this
module undoes that permutation so every tensor here (and every exported adapter
tensor) is in HF layout (rotate-half RoPE), as docs/ADAPTER.md requires.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from gguf import GGUFReader
from gguf.quants import dequantize

DEFAULT_GGUF = Path(os.environ.get(
    "INFILL_BASE_GGUF",
    str(Path.home() / ".cache/infill/models/SmolLM2-135M-Instruct.Q4_1.gguf")))
BASE_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MASK_ID = 16   # <empty_output>, repurposed as the diffusion mask token
NULL_ID = 0    # <|endoftext|>, pads the unused tail of an over-allocated gap


@dataclass(frozen=True)
class LlamaConfig:
    vocab_size: int
    hidden: int
    intermediate: int
    layers: int
    heads: int
    kv_heads: int
    rope_theta: float
    rms_eps: float

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads


def _field(reader: GGUFReader, key: str):
    f = reader.fields.get(key)
    if f is None:
        raise ValueError(f"{reader.data.filename if hasattr(reader.data, 'filename') else 'GGUF'}: missing metadata key {key}")
    return f.contents()


def _unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Invert llama.cpp's q/k row interleave (HF rotate-half order back)."""
    out = w.shape[0]
    return (w.reshape(n_head, out // n_head // 2, 2, *w.shape[1:])
             .swapaxes(1, 2).reshape(w.shape))


_NAME_MAP = {
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
    "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_base(path: Path = DEFAULT_GGUF) -> tuple[LlamaConfig, dict[str, torch.Tensor], GGUFReader]:
    """Dequantise the GGUF to fp32 tensors named as in HF's LlamaForCausalLM."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: base model GGUF not found (run `infill model fetch`)")
    r = GGUFReader(str(path))
    if _field(r, "general.architecture") != "llama":
        raise ValueError(f"{path}: expected a llama GGUF")
    cfg = LlamaConfig(
        vocab_size=int(_field(r, "llama.vocab_size")),
        hidden=int(_field(r, "llama.embedding_length")),
        intermediate=int(_field(r, "llama.feed_forward_length")),
        layers=int(_field(r, "llama.block_count")),
        heads=int(_field(r, "llama.attention.head_count")),
        kv_heads=int(_field(r, "llama.attention.head_count_kv")),
        rope_theta=float(_field(r, "llama.rope.freq_base")),
        rms_eps=float(_field(r, "llama.attention.layer_norm_rms_epsilon")),
    )
    sd: dict[str, torch.Tensor] = {}
    for t in r.tensors:
        arr = dequantize(t.data, t.tensor_type).astype(np.float32)
        shape = tuple(int(x) for x in reversed(t.shape))
        arr = arr.reshape(shape)
        if t.name == "token_embd.weight":
            name = "model.embed_tokens.weight"
        elif t.name == "output_norm.weight":
            name = "model.norm.weight"
        elif t.name == "output.weight":
            name = "lm_head.weight"
        elif t.name.startswith("blk."):
            _, idx, kind, _w = t.name.split(".")
            if kind not in _NAME_MAP:
                raise ValueError(f"{path}: unexpected tensor {t.name}")
            if kind == "attn_q":
                arr = _unpermute(arr, cfg.heads)
            elif kind == "attn_k":
                arr = _unpermute(arr, cfg.kv_heads)
            name = f"model.layers.{idx}.{_NAME_MAP[kind]}.weight"
        else:
            raise ValueError(f"{path}: unexpected tensor {t.name}")
        sd[name] = torch.from_numpy(np.ascontiguousarray(arr))
    return cfg, sd, r


def build_tokenizer(reader: GGUFReader):
    """HF `tokenizers` byte-level BPE from the GGUF vocab/merges with SmolLM2's pre-tokenizer."""
    from tokenizers import Tokenizer, AddedToken, decoders, pre_tokenizers
    from tokenizers.models import BPE

    tokens = list(reader.fields["tokenizer.ggml.tokens"].contents())
    merges = list(reader.fields["tokenizer.ggml.merges"].contents())
    types = list(reader.fields["tokenizer.ggml.token_type"].contents())
    vocab = {tok: i for i, tok in enumerate(tokens)}
    merge_pairs = [tuple(m.split(" ", 1)) for m in merges]
    tok = Tokenizer(BPE(vocab=vocab, merges=merge_pairs, fuse_unk=False, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    # token_type 3 = control: SmolLM2's special tokens (<|endoftext|>, <|im_start|>, ... <empty_output>)
    specials = [AddedToken(tokens[i], special=True, normalized=False)
                for i, ty in enumerate(types) if int(ty) == 3]
    tok.add_special_tokens(specials)
    return tok
