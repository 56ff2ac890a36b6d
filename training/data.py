"""Tokenised corpus and the masked-diffusion training batches (i.i.d., span and gap masking)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gguf_base import MASK_ID, NULL_ID

DOC_SEP = "\n\f\n"


def load_documents(path: Path, tokenizer, min_tokens: int, cache: Path | None = None) -> list[np.ndarray]:
    """Token ids per document (documents shorter than `min_tokens` are dropped)."""
    if cache is not None and cache.exists() and cache.stat().st_mtime >= path.stat().st_mtime:
        z = np.load(cache)
        ids, offs = z["ids"], z["offsets"]
        return [ids[offs[i]:offs[i + 1]] for i in range(len(offs) - 1)]
    text = path.read_text(encoding="utf-8")
    docs = [d for d in text.split(DOC_SEP) if d.strip()]
    encs = tokenizer.encode_batch(docs, add_special_tokens=False)
    out = [np.asarray(e.ids, dtype=np.int32) for e in encs if len(e.ids) >= min_tokens]
    if cache is not None:
        offs = np.cumsum([0] + [len(d) for d in out])
        np.savez(cache, ids=np.concatenate(out), offsets=offs)
    return out


@dataclass
class Batch:
    ids: torch.Tensor        # (B, L) canvas with mask ids
    targets: torch.Tensor    # (B, L) clean tokens
    masked: torch.Tensor     # (B, L) bool
    weight: torch.Tensor     # (B, L) float loss weight (0 where not masked)
    modes: list[str]


class DiffusionBatcher:
    """Samples windows from documents and noises them.

    Modes (per sequence): 'iid' masks each token (position >= 1) with probability t; 'span' masks
    one contiguous span of round(t * (L-1)) tokens; 'gap' takes a span of k real tokens, appends
    a run of null tokens to an allocated length m >= k (what an over-allocated template gap
    holds), and masks each gap position with probability t. t ~ U(t_min, 1).
    Weights: 1/t times Dream's context-adaptive factor (how much unmasked context surrounds a
    masked token: sum over unmasked j of p(1-p)^(|n-j|-1)), normalised to mean 1 per sequence.
    """

    def __init__(self, docs: list[np.ndarray], length: int, seed: int, t_min: float = 0.05,
                 mode_probs=(0.4, 0.3, 0.3), cart_p: float = 0.1, max_gap: int = 48):
        self.docs = docs
        self.L = length
        self.t_min = t_min
        self.mode_probs = np.asarray(mode_probs) / np.sum(mode_probs)
        self.max_gap = max_gap
        lens = np.array([len(d) - length for d in docs], dtype=np.float64) + 1
        self.doc_p = lens / lens.sum()
        self.rng = np.random.default_rng(seed)
        d = np.arange(-(length - 1), length)
        k = cart_p * (1 - cart_p) ** (np.abs(d) - 1.0)
        k[length - 1] = 0.0
        self.kernel = torch.tensor(k, dtype=torch.float32).view(1, 1, -1)

    def window(self) -> np.ndarray:
        doc = self.docs[self.rng.choice(len(self.docs), p=self.doc_p)]
        s = int(self.rng.integers(0, len(doc) - self.L + 1))
        return doc[s:s + self.L].astype(np.int64)

    def sample(self, batch: int) -> Batch:
        L = self.L
        ids = np.zeros((batch, L), np.int64)
        tgt = np.zeros((batch, L), np.int64)
        msk = np.zeros((batch, L), bool)
        tvec = np.zeros(batch)
        modes = []
        for b in range(batch):
            t = float(self.rng.uniform(self.t_min, 1.0))
            mode = ["iid", "span", "gap"][self.rng.choice(3, p=self.mode_probs)]
            w = self.window()
            m = np.zeros(L, bool)
            if mode == "iid":
                m[1:] = self.rng.random(L - 1) < t
                if not m.any():
                    m[int(self.rng.integers(1, L))] = True
            elif mode == "span":
                n = max(1, min(L - 1, round(t * (L - 1))))
                s = int(self.rng.integers(1, L - n + 1))
                m[s:s + n] = True
            else:
                k = int(self.rng.integers(1, self.max_gap + 1))
                alloc = int(self.rng.integers(k, min(2 * k + 8, L - 8) + 1))
                at_end = self.rng.random() < 0.1
                s = L - alloc if at_end else int(self.rng.integers(1, L - alloc - 3))
                canvas = np.concatenate([w[:s + k], np.full(alloc - k, NULL_ID), w[s + k:]])[:L]
                w = canvas
                inside = self.rng.random(alloc) < t
                if not inside.any():
                    inside[int(self.rng.integers(0, alloc))] = True
                m[s:s + alloc] = inside
            tgt[b] = w
            msk[b] = m
            ids[b] = np.where(m, MASK_ID, w)
            tvec[b] = t
            modes.append(mode)
        masked = torch.from_numpy(msk)
        unm = (~masked).float().unsqueeze(1)
        ctx = torch.nn.functional.conv1d(unm, self.kernel, padding=L - 1).squeeze(1)  # (B, L)
        ctx = torch.where(masked, ctx.clamp(min=1e-3), torch.zeros_like(ctx))
        mean = ctx.sum(1, keepdim=True) / masked.sum(1, keepdim=True).clamp(min=1)
        weight = ctx / mean / torch.from_numpy(tvec).float().unsqueeze(1)
        return Batch(torch.from_numpy(ids), torch.from_numpy(tgt), masked, weight, modes)
