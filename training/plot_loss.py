"""Plot the training loss curve (scratch/loss.csv) to a PNG.

  python3 plot_loss.py [--csv scratch/loss.csv] [--out ../docs/training-loss.png]
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent


def smooth(y: np.ndarray, k: int) -> np.ndarray:
    if len(y) < k:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    s = (c[k:] - c[:-k]) / k
    return np.concatenate([np.full(k - 1, np.nan), s])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", default=str(HERE / "scratch" / "loss.csv"))
    ap.add_argument("--out", default=str(HERE.parent / "docs" / "training-loss.png"))
    ap.add_argument("--evals", default=None, help="optional CSV tokens,diffusion_nll,ar_prefix_nll of checkpoint evaluations")
    args = ap.parse_args()
    rows = list(csv.DictReader(open(args.csv)))
    tokens = np.array([float(r["tokens"]) for r in rows]) / 1e6
    loss = np.array([float(r["loss"]) for r in rows])
    ce = np.array([float(r["ce"]) for r in rows])
    causal = np.array([int(r["causal_layers"]) for r in rows])
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    ax.plot(tokens, ce, color="0.8", lw=0.6, label="masked-token CE (per step)")
    ax.plot(tokens, smooth(ce, 25), color="C0", lw=1.6, label="masked-token CE (25-step mean)")
    ax.plot(tokens, smooth(loss, 25), color="C1", lw=1.2, label="weighted ELBO loss (25-step mean)")
    if (causal > 0).any():
        end = tokens[np.argmax(causal == 0)] if (causal == 0).any() else tokens[-1]
        ax.axvspan(0, end, color="C2", alpha=0.1, label="causal→bidirectional annealing")
    if args.evals and Path(args.evals).exists():
        ev = list(csv.DictReader(open(args.evals)))
        et = [float(r["tokens"]) / 1e6 for r in ev]
        ax.plot(et, [float(r["diffusion_nll"]) for r in ev], "o", color="C3", label="held-out span NLL, diffusion (evaluate.py)")
        ax.plot(et, [float(r["ar_prefix_nll"]) for r in ev], "x", color="k", label="same spans, AR parent, prefix only")
    ax.set_xlabel("training tokens (millions)")
    ax.set_ylabel("nats per masked token")
    ax.set_ylim(0, min(10, np.nanmax(ce) + 0.5))
    ax.set_title("SmolLM2-135M → masked diffusion (LoRA r=32, 2 CPU cores)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
