"""Training canvases in the product's regime: whole documents with template-like gaps.

A distilled document (Markdown: headings, paragraphs, lists, `**Label:** value` lines) becomes one
canvas: the start token at position 0, the document's tokens, and 2-5 *fields* — a paragraph, a
list item, a sentence or the value after a label, as a template author would mark them — each
followed by a run of null tokens so the gap is over-allocated the way the engine allocates it.
Headings and the rest stay as context. Inside the gaps, masking follows one of two modes:

- `iid`: each gap position is masked with probability t ~ U(t_min, 1);
- `l2r`: what block decoding sees: the gap's first c positions are revealed, the rest masked,
  with the next `block` positions revealed with probability 1 - t.

A share of canvases (`doc_iid`) masks the whole document i.i.d. instead (general denoising).
The loss weight is 1/t per masked token (the masked-diffusion ELBO) with a constant normaliser:
the number of canvas positions in the batch (LLaDA), not the number of masked tokens.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gguf_base import MASK_ID, NULL_ID

START_ID = 0  # <|endoftext|> at position 0 of every canvas: the engine puts it there too

_LIST = re.compile(r"^(\s*(?:[-*+]|\d+[.)])\s+)")
_LABEL = re.compile(r"^(\s*(?:[-*+]\s+)?\*\*[^*\n]{1,40}:\*\*\s*|\s*[A-Z][A-Za-z ]{1,25}:\s+)")
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def clean(text: str) -> str:
    """Distilled text as a template body: no trailing spaces, at most one blank line in a row."""
    lines = [ln.rstrip() for ln in text.replace("\r", "").split("\n")]
    out = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip() + "\n"


def field_spans(text: str) -> list[tuple[int, int, str]]:
    """Character spans a template author could make fields of: (start, end, kind)."""
    spans = []
    pos = 0
    para_start = None
    para_end = None
    for line in text.split("\n") + [""]:
        start, end = pos, pos + len(line)
        pos = end + 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith("|"):
            if para_start is not None:
                spans.append((para_start, para_end, "paragraph"))
                para_start = None
            continue
        m = _LIST.match(line) or _LABEL.match(line)
        body = start + (m.end() if m else 0)
        if end - body >= 3:
            spans.append((body, end, "line"))
            for sm in _SENT.finditer(line, m.end() if m else 0):
                cut = start + sm.start()
                if cut - body > 20:
                    spans.append((body, cut + 1 if text[cut] in ".!?" else cut, "sentence"))
                    break
        if m is None:
            if para_start is None:
                para_start = body
            para_end = end
        elif para_start is not None:
            spans.append((para_start, para_end, "paragraph"))
            para_start = None
    uniq = sorted(set(spans))
    return [s for s in uniq if s[1] - s[0] >= 3]


def is_heldout(doc: dict) -> bool:
    return int(hashlib.sha256((doc["prompt"] + str(doc.get("batch"))).encode()).hexdigest(), 16) % 25 == 0


def load_distilled(folder: Path, genres: set[str] | None, heldout: bool) -> list[dict]:
    docs = []
    for f in sorted(Path(folder).glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            if genres is not None and d["genre"] not in genres:
                continue
            if is_heldout(d) == heldout:
                d["text"] = clean(d["text"])
                docs.append(d)
    return docs


@dataclass
class Encoded:
    ids: np.ndarray          # document tokens (no start token)
    offsets: np.ndarray      # (n, 2) char offsets
    spans: list[tuple[int, int, str]]


def encode_documents(docs: list[dict], tokenizer) -> list[Encoded]:
    encs = tokenizer.encode_batch([d["text"] for d in docs], add_special_tokens=False)
    out = []
    for d, e in zip(docs, encs):
        out.append(Encoded(np.asarray(e.ids, np.int64), np.asarray(e.offsets, np.int64), field_spans(d["text"])))
    return out


def token_range(enc: Encoded, start: int, end: int) -> tuple[int, int]:
    """Tokens overlapping the char span [start, end); a leading space is part of the field."""
    s = int(np.searchsorted(enc.offsets[:, 1], start, side="right"))
    e = int(np.searchsorted(enc.offsets[:, 0], end, side="left"))
    return s, max(s, e)


@dataclass
class DocBatch:
    ids: torch.Tensor        # (B, L) canvases (null-padded on the right, padding never masked)
    targets: torch.Tensor
    masked: torch.Tensor
    weight: torch.Tensor     # 1/t at masked positions / constant normaliser
    lengths: list[int]
    modes: list[str]


class DocumentBatcher:
    def __init__(self, docs: list[Encoded], max_length: int, seed: int, t_min: float = 1e-3,
                 doc_iid: float = 0.2, l2r: float = 0.5, block: int = 8):
        self.docs = [d for d in docs if len(d.ids) >= 24 and d.spans]
        self.L = max_length
        self.t_min = t_min
        self.doc_iid = doc_iid
        self.l2r = l2r
        self.block = block
        self.rng = np.random.default_rng(seed)

    def canvas(self, enc: Encoded):
        rng = self.rng
        ids = enc.ids[: self.L - 1]
        n = len(ids)
        t = float(rng.uniform(self.t_min, 1.0))
        if rng.random() < self.doc_iid:
            canvas = np.concatenate([[START_ID], ids])
            m = np.zeros(len(canvas), bool)
            m[1:] = rng.random(len(canvas) - 1) < t
            if not m.any():
                m[int(rng.integers(1, len(canvas)))] = True
            return canvas, canvas.copy(), m, t, "doc_iid"
        # pick 2-5 non-overlapping fields, paragraphs and lines preferred
        order = rng.permutation(len(enc.spans))
        want = int(rng.integers(2, 6))
        chosen: list[tuple[int, int]] = []
        for i in order:
            s, e, kind = enc.spans[i]
            if kind == "sentence" and rng.random() < 0.5:
                continue
            a, b = token_range(enc, s, e)
            if b <= a or b > n or b - a > 160:
                continue
            if any(not (b <= x or a >= y) for x, y in chosen):
                continue
            chosen.append((a, b))
            if len(chosen) == want:
                break
        if not chosen:
            a = int(rng.integers(0, max(1, n - 8)))
            chosen = [(a, min(n, a + int(rng.integers(4, 40))))]
        chosen.sort()
        pieces, tpieces, mpieces = [np.array([START_ID])], [np.array([START_ID])], [np.zeros(1, bool)]
        cursor = 0
        mode = "l2r" if rng.random() < self.l2r else "iid"
        for a, b in chosen:
            ctx = ids[cursor:a]
            pieces.append(ctx); tpieces.append(ctx); mpieces.append(np.zeros(len(ctx), bool))
            k = b - a
            extra = int(k * rng.uniform(0.0, 0.6)) + int(rng.integers(0, 9))
            real = ids[a:b]
            gap_t = np.concatenate([real, np.full(extra, NULL_ID)])
            m_len = len(gap_t)
            if mode == "iid":
                gm = rng.random(m_len) < t
            else:
                cut = int(rng.integers(0, k + 1))
                gm = np.zeros(m_len, bool)
                gm[cut:] = True
                blk = slice(cut, min(m_len, cut + self.block))
                gm[blk] = rng.random(len(gm[blk])) >= (1 - t)
                if cut < m_len:
                    gm[cut] = True
            pieces.append(np.where(gm, MASK_ID, gap_t)); tpieces.append(gap_t); mpieces.append(gm)
            cursor = b
        rest = ids[cursor:]
        pieces.append(rest); tpieces.append(rest); mpieces.append(np.zeros(len(rest), bool))
        canvas = np.concatenate(pieces)[: self.L]
        target = np.concatenate(tpieces)[: self.L]
        m = np.concatenate(mpieces)[: self.L]
        if not m.any():
            cand = np.flatnonzero(canvas[1:] != -1) + 1
            j = int(rng.choice(cand))
            m[j] = True
        canvas = np.where(m, MASK_ID, target)
        return canvas, target, m, t, mode

    def sample(self, batch: int) -> DocBatch:
        items = [self.canvas(self.docs[int(self.rng.integers(0, len(self.docs)))]) for _ in range(batch)]
        L = max(len(c[0]) for c in items)
        ids = np.full((batch, L), NULL_ID, np.int64)
        tgt = np.full((batch, L), NULL_ID, np.int64)
        msk = np.zeros((batch, L), bool)
        w = np.zeros((batch, L), np.float32)
        for b, (c, t_, m, t, mode) in enumerate(items):
            ids[b, :len(c)] = c
            tgt[b, :len(c)] = t_
            msk[b, :len(c)] = m
            if mode == "l2r":
                w[b, :len(c)] = np.where(m, 1.0, 0.0)   # conditional NLL of what block decoding sees
            else:
                w[b, :len(c)] = np.where(m, 1.0 / t, 0.0)
        total = sum(len(c[0]) for c in items)
        # constant normaliser (canvas positions), then rescaled so an average batch has weight ~1 per masked token
        weight = torch.from_numpy(w) / total * 4.0
        return DocBatch(torch.from_numpy(ids), torch.from_numpy(tgt), torch.from_numpy(msk), weight,
                        [len(c[0]) for c in items], [c[4] for c in items])
