"""Adapt SmolLM2-135M to masked diffusion with LoRA on the CPU: resumable and time-bounded.

  python3 train.py --max-minutes 60 [--budget-minutes 60] [--resume]

Learning-rate decay and causal->bidirectional annealing follow *progress* = training seconds
spent / --budget-minutes (wall-clock based, so the schedule fits the time actually available on
a shared CPU); a resumed run continues the same schedule. Checkpoints (trainable tensors +
optimiser + data RNG) go to scratch/ckpt.pt every --ckpt-minutes; the loss curve to
scratch/loss.csv.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import pickle
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gguf_base import load_base, build_tokenizer, DEFAULT_GGUF  # noqa: E402
from model import build_model  # noqa: E402
from data import load_documents, DiffusionBatcher  # noqa: E402
from document_data import DocumentBatcher, encode_documents, load_distilled  # noqa: E402
from distill import GENRES  # noqa: E402
from adapter_io import load_adapter_into  # noqa: E402


def lr_at(step: int, progress: float, args) -> float:
    warm = min(1.0, (step + 1) / args.warmup_steps)
    decay_start = 1.0 - args.decay_frac
    if progress <= decay_start:
        d = 1.0
    else:
        x = min(1.0, (progress - decay_start) / args.decay_frac)
        d = args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * x))
    return args.lr * warm * d


def causal_layers_at(progress: float, n_layers: int, anneal_frac: float) -> int:
    if progress >= anneal_frac:
        return 0
    return int(math.ceil(n_layers * (1 - progress / anneal_frac)))


def other_runnable_tasks() -> int:
    """Runnable tasks on the machine that are not this process's threads (from /proc)."""
    try:
        running = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
        own = 0
        for st in Path("/proc/self/task").glob("*/stat"):
            if st.read_text().rsplit(")", 1)[1].split()[0] == "R":
                own += 1
        return max(0, running - own)
    except (OSError, ValueError, IndexError):
        return 0


def diffusion_loss(model, batch):
    h = model.hidden(batch.ids)
    b_idx, pos = batch.masked.nonzero(as_tuple=True)
    hh = h[b_idx, pos - 1]                      # logit shift: token n read at n-1
    logits = model.logits_from_hidden(hh)
    ce = F.cross_entropy(logits, batch.targets[b_idx, pos], reduction="none")
    w = batch.weight[b_idx, pos]
    return (w * ce).sum() / w.sum(), ce.mean().detach(), len(pos)


def document_loss(model, batch):
    """Masked-diffusion loss of a DocBatch: weights already hold 1/t and the constant normaliser."""
    L = batch.ids.shape[1]
    lens = torch.tensor(batch.lengths)
    keys = torch.arange(L)[None, :] < lens[:, None]               # padding is never attended to
    key_mask = keys[:, None, None, :].expand(-1, 1, L, L)
    h = model.hidden(batch.ids, key_mask=key_mask)
    b_idx, pos = batch.masked.nonzero(as_tuple=True)
    logits = model.logits_from_hidden(h[b_idx, pos - 1])
    ce = F.cross_entropy(logits, batch.targets[b_idx, pos], reduction="none")
    w = batch.weight[b_idx, pos]
    return (w * ce).sum(), ce.mean().detach(), len(pos)


def save_ckpt(path: Path, model, opt, state: dict, batcher):
    tmp = path.with_suffix(".tmp")
    torch.save({"trainable": model.trainable_state(), "opt": opt.state_dict(), "state": state,
                "rng": pickle.dumps(batcher.rng.bit_generator.state),
                "config": {"rank": model.rank, "alpha": model.alpha}}, tmp)
    os.replace(tmp, path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", default=str(DEFAULT_GGUF))
    ap.add_argument("--corpus", default=str(HERE / "scratch/corpus/train.txt"))
    ap.add_argument("--scratch", default=str(HERE / "scratch"))
    ap.add_argument("--max-minutes", type=float, required=True, help="stop this run after this long")
    ap.add_argument("--budget-minutes", type=float, default=None, help="total planned training time (schedule); default --max-minutes")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--adaptive-threads", action=argparse.BooleanOptionalAction, default=True,
                    help="drop to 1 thread for a step while other tasks are runnable: on a shared 2-core "
                         "machine a 2-thread OpenMP step stalls at every barrier when a core is taken")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--alpha", type=float, default=32.0)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup-steps", type=int, default=20)
    ap.add_argument("--decay-frac", type=float, default=0.25)
    ap.add_argument("--anneal-frac", type=float, default=0.12)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--ckpt-minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--regime", choices=["windows", "document"], default="windows",
                    help="windows: random 128-token windows of --corpus (v0.1); document: whole distilled "
                         "documents with template-like gaps and null tails (document_data.py)")
    ap.add_argument("--distill", default=str(HERE / "scratch/distill"), help="distill.py output (document regime)")
    ap.add_argument("--reload-minutes", type=float, default=10.0,
                    help="document regime: re-read --distill this often (distill.py may still be adding documents)")
    ap.add_argument("--init-adapter", default=None, help="start from this exported adapter folder")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0 = no limit)")
    args = ap.parse_args()
    budget_s = 60 * (args.budget_minutes or args.max_minutes)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    scratch = Path(args.scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    ckpt_path = scratch / "ckpt.pt"

    cfg, sd, reader = load_base(Path(args.gguf))
    tok = build_tokenizer(reader)
    if args.regime == "document":
        raw = load_distilled(Path(args.distill), set(GENRES), heldout=False)
        docs = encode_documents(raw, tok)
        print(f"corpus: {len(docs)} distilled documents, {sum(len(d.ids) for d in docs)} tokens", flush=True)
    else:
        docs = load_documents(Path(args.corpus), tok, args.length + 1, scratch / "train_tokens.npz")
        print(f"corpus: {len(docs)} documents, {sum(len(d) for d in docs)} tokens", flush=True)
    model = build_model(cfg, sd, args.rank, args.alpha)
    del sd
    for name, p in model.named_parameters():
        p.requires_grad_(True)
    lora = [p for n, p in model.named_parameters() if "lora_" in n]
    other = [p for n, p in model.named_parameters() if "lora_" not in n]
    opt = torch.optim.AdamW([{"params": lora, "weight_decay": args.weight_decay},
                             {"params": other, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98))
    if args.init_adapter and not args.resume:
        load_adapter_into(model, Path(args.init_adapter))
        print(f"initialised from {args.init_adapter}", flush=True)
    batcher = (DocumentBatcher(docs, args.length, args.seed) if args.regime == "document"
               else DiffusionBatcher(docs, args.length, args.seed))
    state = {"step": 0, "tokens": 0, "train_seconds": 0.0}
    if args.resume and ckpt_path.exists():
        ck = torch.load(ckpt_path, weights_only=False)
        with torch.no_grad():
            params = dict(model.named_parameters())
            for k, v in ck["trainable"].items():
                params[k].copy_(v)
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        batcher.rng.bit_generator.state = pickle.loads(ck["rng"])
        print(f"resumed at step {state['step']}, {state['tokens']} tokens, {state['train_seconds']/60:.1f} min", flush=True)
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"trainable parameters: {n_train}", flush=True)

    csv_path = scratch / "loss.csv"
    new_csv = not csv_path.exists() or not args.resume
    fh = open(csv_path, "w" if new_csv else "a", newline="")
    wr = csv.writer(fh)
    if new_csv:
        wr.writerow(["step", "tokens", "train_minutes", "loss", "ce", "masked", "lr", "grad_norm", "causal_layers", "tokens_per_s", "threads"])
    start = time.time()
    last_ckpt = start
    last_reload = start
    base_seconds = state["train_seconds"]
    model.train()
    while True:
        elapsed = time.time() - start
        if elapsed >= 60 * args.max_minutes or (args.max_steps and state["step"] >= args.max_steps):
            break
        progress = (base_seconds + elapsed) / budget_s
        if progress >= 1.0:
            print("budget reached", flush=True)
            break
        lr = lr_at(state["step"], progress, args)
        for g in opt.param_groups:
            g["lr"] = lr
        model.causal_layers = causal_layers_at(progress, cfg.layers, args.anneal_frac)
        threads = args.threads
        if args.adaptive_threads and args.threads > 1 and other_runnable_tasks() > 0:
            threads = 1
        torch.set_num_threads(threads)
        if args.regime == "document" and time.time() - last_reload >= 60 * args.reload_minutes:
            fresh = encode_documents(load_distilled(Path(args.distill), set(GENRES), heldout=False), tok)
            batcher.docs = [d for d in fresh if len(d.ids) >= 24 and d.spans]
            last_reload = time.time()
            print(f"corpus reloaded: {len(batcher.docs)} documents", flush=True)
        t0 = time.time()
        batch = batcher.sample(args.batch)
        loss, ce, nm = (document_loss if args.regime == "document" else diffusion_loss)(model, batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = float(torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip))
        opt.step()
        dt = time.time() - t0
        state["step"] += 1
        ntok = sum(batch.lengths) if args.regime == "document" else args.batch * args.length
        state["tokens"] += ntok
        state["train_seconds"] = base_seconds + (time.time() - start)
        wr.writerow([state["step"], state["tokens"], f"{state['train_seconds']/60:.3f}", f"{loss.item():.4f}",
                     f"{ce.item():.4f}", nm, f"{lr:.3e}", f"{gn:.3f}", model.causal_layers,
                     f"{ntok/dt:.1f}", threads])
        if state["step"] % 10 == 0:
            fh.flush()
            print(f"step {state['step']} loss {loss.item():.3f} ce {ce.item():.3f} gn {gn:.2f} lr {lr:.2e} "
                  f"causal {model.causal_layers} {ntok/dt:.0f} tok/s threads {threads}", flush=True)
        if time.time() - last_ckpt >= 60 * args.ckpt_minutes:
            save_ckpt(ckpt_path, model, opt, state, batcher)
            last_ckpt = time.time()
            print(f"checkpoint at step {state['step']}", flush=True)
    save_ckpt(ckpt_path, model, opt, state, batcher)
    fh.close()
    print(f"done: step {state['step']}, {state['tokens']} tokens, {state['train_seconds']/60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
