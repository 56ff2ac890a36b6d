"""Whole-document evaluation on held-out distilled documents (the product's regime).

Each held-out document becomes a template-like canvas as in training (start token, 2-5 fields,
over-allocated gaps with null tails). For every gap the block decoder's situation is replayed at
three cut points c of its k real tokens: the first c revealed, the rest of the gap masked.
  gap_nll        NLL of the true token at c (c < k), prefix, revealed gap text and suffix visible
  ar_nll         the AR parent's NLL of the same tokens, prefix only (causal, no adapter)
  end_accuracy   at c = k (the text is complete): argmax is the null token (the field ends)
  false_end      at c < k: argmax is the null token (the field would end too early)
  guided_nll     the engine's parent guidance (InfillSampling/ParentGuidance.swift) on the same
                 tokens: p(v) ∝ p_diffusion(v) · p_parent(v)^w for v ≠ null, scaled to
                 1 − p_diffusion(null); w = 1 (the default) and 0.5
Held-out = documents whose hash puts them in the 4 % split, plus genres never trained on.
"""
from __future__ import annotations

import numpy as np
import torch

from document_data import START_ID, encode_documents, load_distilled, token_range
from gguf_base import MASK_ID, NULL_ID


def build_cases(docs, tok, seed: int, max_docs: int):
    rng = np.random.default_rng(seed)
    encs = encode_documents(docs[:max_docs], tok)
    cases = []
    for di, enc in enumerate(encs):
        ids = enc.ids[:600]
        spans = [s for s in enc.spans if s[2] in ("paragraph", "line")]
        rng.shuffle(spans)
        chosen = []
        for s, e, _ in spans:
            a, b = token_range(enc, s, e)
            if b <= a or b > len(ids) or b - a < 3 or b - a > 120 or any(not (b <= x or a >= y) for x, y in chosen):
                continue
            chosen.append((a, b))
            if len(chosen) == 3:
                break
        if not chosen:
            continue
        chosen.sort()
        # canvas with every gap over-allocated: true tokens + nulls
        canvas, gaps, cursor = [START_ID], [], 0
        for a, b in chosen:
            canvas += ids[cursor:a].tolist()
            start = len(canvas)
            k = b - a
            canvas += ids[a:b].tolist() + [NULL_ID] * (k // 3 + 4)
            gaps.append((start, k, len(canvas)))
            cursor = b
        canvas += ids[cursor:].tolist()
        for start, k, end in gaps:
            for c in sorted({0, k // 2, k}):
                x = list(canvas)
                for g_start, g_k, g_end in gaps:          # other gaps masked entirely (still to fill)
                    if g_start != start:
                        x[g_start:g_end] = [MASK_ID] * (g_end - g_start)
                x[start + c:end] = [MASK_ID] * (end - start - c)
                cases.append({"doc": di, "tokens": x, "pos": start + c, "target": canvas[start + c],
                              "complete": c == k, "ar_ids": ids.tolist(), "ar_pos": chosen[gaps.index((start, k, end))][0] + c})
    return cases


def guided_nll(diffusion_logits, parent_logits, target: int, weight: float) -> float:
    """NLL of `target` (not the null) under the product of the two distributions, as the engine samples."""
    ld = diffusion_logits.float().clone()
    ld[MASK_ID] = float("-inf")
    ld = torch.log_softmax(ld, -1)
    lp = torch.log_softmax(parent_logits.float()[: ld.shape[0]], -1)
    comb = ld + weight * lp
    comb[NULL_ID] = float("-inf")
    rest = torch.log1p(-ld[NULL_ID].exp().clamp(max=1 - 1e-7))
    return float(-(rest + comb[target] - torch.logsumexp(comb, -1)))


@torch.no_grad()
def evaluate_documents(model, base, cases, batch: int = 8):
    """Metrics of `model` (diffusion) and `base` (the AR parent, causal) on `cases`."""
    gap_nll, ar_nll, end_hits, ends, false_ends, inner = [], [], 0, 0, 0, 0
    guided = {1.0: [], 0.5: []}
    for i in range(0, len(cases), batch):
        chunk = cases[i:i + batch]
        for c in chunk:
            x = torch.tensor([c["tokens"]])
            lg = model.logits_at(x, torch.tensor([[c["pos"]]]))[0, 0]
            top = int(lg.argmax())
            if c["complete"]:
                ends += 1
                end_hits += int(top == NULL_ID)
            else:
                inner += 1
                false_ends += int(top == NULL_ID)
                gap_nll.append(float(-torch.log_softmax(lg, -1)[c["target"]]))
                if c["ar_pos"] < 1:
                    gap_nll.pop()
                    continue
                ids = torch.tensor([c["ar_ids"][:c["ar_pos"] + 1]])
                h = base.hidden(ids)                    # `base` is causal in every layer
                ar = base.logits_from_hidden(h[0, -2])  # AR: token at ar_pos read from ar_pos - 1
                ar_nll.append(float(-torch.log_softmax(ar, -1)[c["target"]]))
                for w, out in guided.items():
                    out.append(guided_nll(lg, ar, c["target"], w))
    g, a = np.array(gap_nll), np.array(ar_nll)
    d = g - a
    extra = {}
    for w, out in guided.items():
        gv = np.array(out)
        key = "guided_nll" if w == 1.0 else f"guided_nll_w{w:g}".replace(".", "_")
        extra[key] = round(float(gv.mean()), 4)
        extra[key + "_minus_ar"] = round(float((gv - a).mean()), 4)
        extra[key + "_minus_ar_stderr"] = round(float((gv - a).std(ddof=1) / np.sqrt(len(gv))), 4)
    return extra | {
        "gap_nll": round(float(g.mean()), 4), "ar_nll": round(float(a.mean()), 4),
        "paired_diff": round(float(d.mean()), 4), "paired_diff_stderr": round(float(d.std(ddof=1) / np.sqrt(len(d))), 4),
        "gap_tokens": int(len(g)), "end_accuracy": round(end_hits / max(1, ends), 4), "ends": ends,
        "false_end_rate": round(false_ends / max(1, inner), 4),
    }
