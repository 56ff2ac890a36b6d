"""SmolLM2 (Llama) in PyTorch as a masked-diffusion model with LoRA.

Frozen base weights are kept in bf16 (this CPU has AVX-512-bf16; the pilot measured ~3x faster
matmuls); the residual stream, RMSNorms, LoRA factors and logits are fp32. Attention is
bidirectional except for the lowest `causal_layers` layers (used while annealing from the AR
parent). Logits follow Dream's shift: the token at position i is read from the output at i-1.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from gguf_base import LlamaConfig, MASK_ID

LINEARS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")


class LoRALinear(nn.Module):
    """y = x W^T (frozen) + scale * (x A^T) B^T (trainable)."""

    def __init__(self, weight: torch.Tensor, rank: int, alpha: float, base_dtype: torch.dtype):
        super().__init__()
        out_f, in_f = weight.shape
        self.register_buffer("weight", weight.to(base_dtype).contiguous(), persistent=False)
        self.rank = rank
        self.scale = alpha / rank if rank > 0 else 0.0
        if rank > 0:
            self.lora_A = nn.Parameter(torch.randn(rank, in_f) / math.sqrt(in_f))
            self.lora_B = nn.Parameter(torch.zeros(out_f, rank))
        else:
            self.lora_A = self.lora_B = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x.to(self.weight.dtype), self.weight).float()
        if self.lora_A is not None:
            y = y + self.scale * F.linear(F.linear(x, self.lora_A), self.lora_B)
        return y


class RMSNorm(nn.Module):
    def __init__(self, weight: torch.Tensor, eps: float):
        super().__init__()
        self.weight = nn.Parameter(weight.clone().float())
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(cfg: LlamaConfig, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    d = cfg.head_dim
    inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    ang = torch.arange(length, dtype=torch.float64)[:, None] * inv[None, :]
    ang = torch.cat([ang, ang], dim=-1)
    return ang.cos().float(), ang.sin().float()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    h = x.shape[-1] // 2
    rot = torch.cat([-x[..., h:], x[..., :h]], dim=-1)
    return x * cos + rot * sin


class Block(nn.Module):
    def __init__(self, cfg: LlamaConfig, sd: dict, i: int, rank: int, alpha: float, base_dtype):
        super().__init__()
        p = f"model.layers.{i}."
        self.cfg = cfg
        self.lin = nn.ModuleDict({name.replace(".", "_"): LoRALinear(sd[p + name + ".weight"], rank, alpha, base_dtype)
                                  for name in LINEARS})
        self.input_layernorm = RMSNorm(sd[p + "input_layernorm.weight"], cfg.rms_eps)
        self.post_attention_layernorm = RMSNorm(sd[p + "post_attention_layernorm.weight"], cfg.rms_eps)

    def forward(self, x, cos, sin, causal: bool, attn_dtype, key_mask=None):
        cfg = self.cfg
        B, L, _ = x.shape
        h = self.input_layernorm(x)
        q = self.lin["self_attn_q_proj"](h).view(B, L, cfg.heads, cfg.head_dim).transpose(1, 2)
        k = self.lin["self_attn_k_proj"](h).view(B, L, cfg.kv_heads, cfg.head_dim).transpose(1, 2)
        v = self.lin["self_attn_v_proj"](h).view(B, L, cfg.kv_heads, cfg.head_dim).transpose(1, 2)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        rep = cfg.heads // cfg.kv_heads
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        a = F.scaled_dot_product_attention(q.to(attn_dtype), k.to(attn_dtype), v.to(attn_dtype),
                                           attn_mask=key_mask, is_causal=causal and key_mask is None)
        a = a.float().transpose(1, 2).reshape(B, L, cfg.hidden)
        x = x + self.lin["self_attn_o_proj"](a)
        h = self.post_attention_layernorm(x)
        g = self.lin["mlp_gate_proj"](h)
        u = self.lin["mlp_up_proj"](h)
        x = x + self.lin["mlp_down_proj"](F.silu(g) * u)
        return x


class DiffusionLlama(nn.Module):
    """Llama blocks with LoRA; `causal_layers` lowest layers causal, the rest bidirectional."""

    def __init__(self, cfg: LlamaConfig, sd: dict, rank: int = 32, alpha: float = 32.0,
                 base_dtype: torch.dtype = torch.bfloat16, attn_dtype: torch.dtype = torch.bfloat16):
        super().__init__()
        self.cfg = cfg
        self.rank, self.alpha = rank, alpha
        self.attn_dtype = attn_dtype
        emb = sd["model.embed_tokens.weight"].float()
        self.register_buffer("embed", emb.contiguous(), persistent=False)
        self.register_buffer("head", emb.to(base_dtype).contiguous(), persistent=False)
        # The mask token's embedding row is trainable; it starts from <empty_output>'s base row.
        self.mask_row = nn.Parameter(emb[MASK_ID].clone())
        self.layers = nn.ModuleList([Block(cfg, sd, i, rank, alpha, base_dtype) for i in range(cfg.layers)])
        self.norm = RMSNorm(sd["model.norm.weight"], cfg.rms_eps)
        self.causal_layers = 0
        self._rope_len = 0

    def _rope(self, L: int):
        if L > self._rope_len:
            self._cos, self._sin = rope_tables(self.cfg, max(L, 256))
            self._rope_len = self._cos.shape[0]
        return self._cos[:L], self._sin[:L]

    def hidden(self, ids: torch.Tensor, key_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = F.embedding(ids, self.embed)
        is_mask = (ids == MASK_ID).unsqueeze(-1)
        x = torch.where(is_mask, self.mask_row.expand_as(x), x)
        cos, sin = self._rope(ids.shape[1])
        for i, blk in enumerate(self.layers):
            x = blk(x, cos, sin, i < self.causal_layers, self.attn_dtype, key_mask)
        return self.norm(x)

    def logits_from_hidden(self, h: torch.Tensor) -> torch.Tensor:
        """fp32 logits over the vocabulary; the mask id is never a prediction."""
        out = F.linear(h.to(self.head.dtype), self.head).float()
        out[..., MASK_ID] = float("-inf")
        return out

    def logits_at(self, ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Logits for the tokens AT `positions` (B, P) under the logit shift (read at p-1)."""
        h = self.hidden(ids)
        idx = (positions - 1).clamp(min=0)
        hh = torch.gather(h, 1, idx.unsqueeze(-1).expand(-1, -1, h.shape[-1]))
        return self.logits_from_hidden(hh)

    def trainable_state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.named_parameters()}


def build_model(cfg, sd, rank=32, alpha=32.0, fp32: bool = False) -> DiffusionLlama:
    dt = torch.float32 if fp32 else torch.bfloat16
    m = DiffusionLlama(cfg, sd, rank, alpha, base_dtype=dt, attn_dtype=dt)
    return m
