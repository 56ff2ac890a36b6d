"""Convert between the training model's parameters and the adapter format of docs/ADAPTER.md.

The exported tensors are in Hugging Face layout: `model.layers.{i}.<linear>.lora_A` [rank, in],
`...lora_B` [out, rank] (merge W' = W + alpha/rank * B @ A), full replacement norm weights, and
the mask token's embedding row as `model.embed_tokens.rows` + `model.embed_tokens.row_ids`.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from gguf_base import MASK_ID
from model import LINEARS, DiffusionLlama


def adapter_tensors(model: DiffusionLlama, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for i, blk in enumerate(model.layers):
        for name in LINEARS:
            lin = blk.lin[name.replace(".", "_")]
            out[f"model.layers.{i}.{name}.lora_A"] = lin.lora_A.detach().to(dtype).contiguous()
            out[f"model.layers.{i}.{name}.lora_B"] = lin.lora_B.detach().to(dtype).contiguous()
        out[f"model.layers.{i}.input_layernorm.weight"] = blk.input_layernorm.weight.detach().to(dtype).contiguous()
        out[f"model.layers.{i}.post_attention_layernorm.weight"] = blk.post_attention_layernorm.weight.detach().to(dtype).contiguous()
    out["model.norm.weight"] = model.norm.weight.detach().to(dtype).contiguous()
    out["model.embed_tokens.rows"] = model.mask_row.detach().to(dtype).view(1, -1).contiguous()
    out["model.embed_tokens.row_ids"] = torch.tensor([MASK_ID], dtype=torch.int64)
    return out


def load_trainable_from_checkpoint(model: DiffusionLlama, ckpt: Path) -> dict:
    ck = torch.load(ckpt, weights_only=False, map_location="cpu")
    params = dict(model.named_parameters())
    with torch.no_grad():
        for k, v in ck["trainable"].items():
            if k not in params:
                raise ValueError(f"{ckpt}: unknown tensor {k}")
            params[k].copy_(v)
    return ck["state"]


def load_adapter_into(model: DiffusionLlama, folder: Path) -> dict:
    """Load adapter.safetensors (+ manifest.json) from `folder` into a LoRA model of equal rank."""
    path = Path(folder) / "adapter.safetensors"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: adapter not found")
    manifest_path = Path(folder) / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    t = load_file(str(path))
    with torch.no_grad():
        for i, blk in enumerate(model.layers):
            for name in LINEARS:
                lin = blk.lin[name.replace(".", "_")]
                for part in ("lora_A", "lora_B"):
                    key = f"model.layers.{i}.{name}.{part}"
                    if key not in t:
                        raise ValueError(f"{path}: missing tensor {key}")
                    dst = getattr(lin, part)
                    if tuple(t[key].shape) != tuple(dst.shape):
                        raise ValueError(f"{path}: {key} has shape {tuple(t[key].shape)}, expected {tuple(dst.shape)}")
                    dst.copy_(t[key].float())
            blk.input_layernorm.weight.copy_(t[f"model.layers.{i}.input_layernorm.weight"].float())
            blk.post_attention_layernorm.weight.copy_(t[f"model.layers.{i}.post_attention_layernorm.weight"].float())
        model.norm.weight.copy_(t["model.norm.weight"].float())
        ids = t["model.embed_tokens.row_ids"].tolist()
        rows = t["model.embed_tokens.rows"].float()
        for rid, row in zip(ids, rows):
            if rid != MASK_ID:
                raise ValueError(f"{path}: embedding row {rid} is not the mask id {MASK_ID}")
            model.mask_row.copy_(row)
    return manifest


def merged_state_dict(base_sd: dict[str, torch.Tensor], adapter: dict[str, torch.Tensor], rank: int, alpha: float) -> dict[str, torch.Tensor]:
    """Base HF state dict with the adapter merged in fp32 (W + alpha/rank * B @ A, replaced norms/rows)."""
    sd = {k: v.clone().float() for k, v in base_sd.items()}
    scale = alpha / rank
    for k, v in adapter.items():
        if k.endswith(".lora_A"):
            stem = k[:-len(".lora_A")]
            B = adapter[stem + ".lora_B"].double()
            sd[stem + ".weight"] = (sd[stem + ".weight"].double() + scale * (B @ v.double())).float()
        elif k.endswith("layernorm.weight") or k == "model.norm.weight":
            sd[k] = v.float().clone()
    ids = adapter["model.embed_tokens.row_ids"].tolist()
    for rid, row in zip(ids, adapter["model.embed_tokens.rows"].float()):
        sd["model.embed_tokens.weight"][rid] = row
    return sd
