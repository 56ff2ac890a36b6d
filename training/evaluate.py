"""Infilling evaluation of the diffusion adapter on held-out text.

  python3 evaluate.py --text FILE [--json] [--adapter DIR | --checkpoint CKPT] [--windows N]

Windows of --length tokens are cut from the text (documents split on form-feed lines, else the
whole file); each gets one contiguous span of 4-32 tokens with at least --min-context tokens on
both sides. Metrics (nats per span token, lower is better):
  diffusion_nll  the diffusion model, span fully masked, unmasked left to right: each span token is
                 scored with the prefix, the already revealed span tokens and the suffix visible
  ar_prefix_nll  the base model (causal, no adapter) scoring the same tokens from the prefix only
  acc_15/50/90   masked-token top-1 accuracy, one forward, positions >= 1 masked i.i.d. at 15/50/90%
Paired statistics of diffusion - AR over the same span tokens are printed too.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gguf_base import load_base, build_tokenizer, DEFAULT_GGUF, MASK_ID  # noqa: E402
from model import build_model  # noqa: E402
from adapter_io import load_adapter_into, load_trainable_from_checkpoint  # noqa: E402
from document_data import load_distilled  # noqa: E402

DEFAULT_ADAPTER = HERE.parent / "models" / "smollm2-135m-diffusion"


def make_windows(text: str, tok, length: int, count: int, seed: int, min_ctx: int):
    docs = [d for d in text.split("\n\f\n") if d.strip()]
    encs = [e.ids for e in tok.encode_batch(docs, add_special_tokens=False)]
    starts = [(di, s) for di, ids in enumerate(encs) for s in range(0, len(ids) - length + 1, length)]
    if not starts:
        ids = [i for e in encs for i in e]
        encs = [ids]
        starts = [(0, s) for s in range(0, len(ids) - length + 1, length)]
    if not starts:
        raise ValueError(f"text has {sum(len(e) for e in encs)} tokens; need at least {length}")
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(starts))[:count]
    out = []
    for p in sorted(pick):
        di, s = starts[p]
        w = torch.tensor(encs[di][s:s + length], dtype=torch.long)
        n = int(rng.integers(4, 33))
        a = int(rng.integers(min_ctx, length - min_ctx - n + 1))
        out.append((w, a, n))
    return out


@torch.no_grad()
def diffusion_span_nll(model, w, a, n) -> torch.Tensor:
    """NLL of each span token, unmasking left to right with prefix and suffix visible."""
    canv = w.unsqueeze(0).repeat(n, 1)
    for j in range(n):
        canv[j, a + j:a + n] = MASK_ID        # row j: span tokens before j revealed
    pos = (a + torch.arange(n)).view(n, 1)
    logits = model.logits_at(canv, pos)[:, 0]  # (n, V)
    lp = torch.log_softmax(logits, -1)
    return -lp[torch.arange(n), w[a:a + n]]


@torch.no_grad()
def ar_span_nll(base, w, a, n) -> torch.Tensor:
    x = w[:a + n].unsqueeze(0)
    h = base.hidden(x)[0]
    lp = torch.log_softmax(base.logits_from_hidden(h[a - 1:a + n - 1]), -1)
    return -lp[torch.arange(n), w[a:a + n]]


@torch.no_grad()
def masked_accuracy(model, windows, rate: float, seed: int, batch: int = 8) -> tuple[int, int]:
    g = torch.Generator().manual_seed(seed)
    correct = total = 0
    ws = [w for w, _, _ in windows]
    for i in range(0, len(ws), batch):
        x = torch.stack(ws[i:i + batch])
        m = torch.rand(x.shape, generator=g) < rate
        m[:, 0] = False
        canv = torch.where(m, torch.full_like(x, MASK_ID), x)
        h = model.hidden(canv)
        b, p = m.nonzero(as_tuple=True)
        pred = model.logits_from_hidden(h[b, p - 1]).argmax(-1)
        correct += int((pred == x[b, p]).sum())
        total += len(p)
    return correct, total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--text", default=None, help="held-out text file (UTF-8) for the window metrics")
    ap.add_argument("--documents", default=None,
                    help="distill.py folder: whole-document metrics on its held-out documents and genres")
    ap.add_argument("--max-documents", type=int, default=40)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--adapter", default=None, help=f"adapter folder (default {DEFAULT_ADAPTER})")
    ap.add_argument("--checkpoint", default=None, help="a training checkpoint instead of an exported adapter")
    ap.add_argument("--gguf", default=str(DEFAULT_GGUF))
    ap.add_argument("--windows", type=int, default=64, help="number of windows (runtime scales with it)")
    ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--min-context", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fp32", action="store_true", help="fp32 base weights (slower; default bf16 as in training)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()
    if not args.text and not args.documents:
        print("evaluate: give --text FILE, --documents DIR or both", file=sys.stderr)
        return 2
    text = None
    if args.text:
        path = Path(args.text)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            print(f"evaluate: {path}: {e}", file=sys.stderr)
            return 2
    cfg, sd, reader = load_base(Path(args.gguf))
    tok = build_tokenizer(reader)
    windows = []
    if text is not None:
        try:
            windows = make_windows(text, tok, args.length, args.windows, args.seed, args.min_context)
        except ValueError as e:
            print(f"evaluate: {path}: {e}", file=sys.stderr)
            return 2
    base = build_model(cfg, sd, rank=0, fp32=args.fp32)
    base.causal_layers = cfg.layers
    model = build_model(cfg, sd, rank=32, fp32=args.fp32)
    del sd
    if args.checkpoint:
        source = f"checkpoint {args.checkpoint}"
        info = load_trainable_from_checkpoint(model, Path(args.checkpoint))
    else:
        folder = Path(args.adapter) if args.adapter else DEFAULT_ADAPTER
        source = f"adapter {folder}"
        try:
            info = load_adapter_into(model, folder)
        except (OSError, ValueError, KeyError) as e:
            print(f"evaluate: {e}", file=sys.stderr)
            return 2
    model.eval(); base.eval()
    res = {}
    if args.documents:
        from document_eval import build_cases, evaluate_documents
        from distill import HELDOUT_GENRES
        held = load_distilled(Path(args.documents), None, heldout=True)
        unseen = [d for d in load_distilled(Path(args.documents), set(HELDOUT_GENRES), heldout=False)]
        for name, docs in (("heldout_documents", [d for d in held if d["genre"] not in HELDOUT_GENRES]),
                           ("heldout_genres", unseen + [d for d in held if d["genre"] in HELDOUT_GENRES])):
            cases = build_cases(docs, tok, args.seed, args.max_documents)
            res[name] = evaluate_documents(model, base, cases) | {"documents": min(len(docs), args.max_documents)}
        if not windows:
            res["model"] = source
            res["seconds"] = round(time.time() - t0, 1)
            print(json.dumps(res, indent=None if args.json else 1))
            return 0
    d_all, a_all, d_win, a_win, last_d, last_a = [], [], [], [], [], []
    for w, a, n in windows:
        d = diffusion_span_nll(model, w, a, n)
        r = ar_span_nll(base, w, a, n)
        d_all.append(d); a_all.append(r)
        d_win.append(float(d.mean())); a_win.append(float(r.mean()))
        last_d.append(float(d[-1])); last_a.append(float(r[-1]))
    d_all = torch.cat(d_all); a_all = torch.cat(a_all)
    diff = (d_all - a_all).double()
    res |= {
        "diffusion_nll": round(float(d_all.mean()), 4),
        "ar_prefix_nll": round(float(a_all.mean()), 4),
        "paired_diff": round(float(diff.mean()), 4),
        "paired_diff_stderr": round(float(diff.std() / math.sqrt(len(diff))), 4),
        "windows_diffusion_better": round(float(np.mean(np.array(d_win) < np.array(a_win))), 3),
        "last_span_token_diffusion_nll": round(float(np.mean(last_d)), 4),
        "last_span_token_ar_nll": round(float(np.mean(last_a)), 4),
        "windows": len(windows),
        "span_tokens": int(len(d_all)),
    }
    for rate in (0.15, 0.5, 0.9):
        c, t = masked_accuracy(model, windows, rate, args.seed + int(rate * 100))
        res[f"acc_{int(rate * 100)}"] = round(c / max(t, 1), 4)
        res[f"acc_{int(rate * 100)}_tokens"] = t
    res["model"] = source
    res["precision"] = "fp32" if args.fp32 else "bf16 base weights"
    res["seconds"] = round(time.time() - t0, 1)
    if args.json:
        print(json.dumps(res))
    else:
        print(f"{source}; {res['windows']} windows, {res['span_tokens']} span tokens")
        print(f"diffusion_nll (prefix+suffix, L->R) {res['diffusion_nll']:.4f}")
        print(f"ar_prefix_nll (base, prefix only)   {res['ar_prefix_nll']:.4f}")
        print(f"paired diff {res['paired_diff']:+.4f} +- {res['paired_diff_stderr']:.4f}; diffusion better on {100*res['windows_diffusion_better']:.0f}% of windows")
        print(f"top-1 accuracy at 15/50/90% masking: {res['acc_15']:.3f} / {res['acc_50']:.3f} / {res['acc_90']:.3f}")
        print(f"{res['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
