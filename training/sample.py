"""Fill a gap with the diffusion model by iterative unmasking (lowest-entropy positions first).

  python3 sample.py --prefix TEXT --suffix TEXT --gap N --steps S [S ...] [--adapter DIR | --checkpoint CKPT]

Each step unmasks ceil(remaining / steps_left) masked positions, choosing those whose predicted
distribution has the lowest entropy and taking the argmax token there (greedy; deterministic).
The null token (id 0) fills an over-allocated gap's unused tail and is removed from the output.
This is a reference sampler for the model card, not the product's sampler (InfillSampling).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gguf_base import load_base, build_tokenizer, DEFAULT_GGUF, MASK_ID, NULL_ID  # noqa: E402
from model import build_model  # noqa: E402
from adapter_io import load_adapter_into, load_trainable_from_checkpoint  # noqa: E402

DEFAULT_ADAPTER = HERE.parent / "models" / "smollm2-135m-diffusion"


@torch.no_grad()
def fill(model, prefix_ids: list[int], suffix_ids: list[int], gap: int, steps: int) -> list[int]:
    ids = torch.tensor([prefix_ids + [MASK_ID] * gap + suffix_ids])
    steps = max(1, min(steps, gap))
    for s in range(steps):
        masked = (ids[0] == MASK_ID).nonzero().flatten()
        if len(masked) == 0:
            break
        k = math.ceil(len(masked) / (steps - s))
        logits = model.logits_at(ids, masked.view(1, -1))[0]
        lp = torch.log_softmax(logits, -1)
        ent = -(lp.exp() * lp).nan_to_num().sum(-1)
        order = torch.argsort(ent)[:k]
        ids[0, masked[order]] = lp[order].argmax(-1)
    out = ids[0, len(prefix_ids):len(prefix_ids) + gap].tolist()
    return [t for t in out if t != NULL_ID]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--suffix", default="")
    ap.add_argument("--gap", type=int, default=32)
    ap.add_argument("--steps", type=int, nargs="+", default=[8, 32, 128])
    ap.add_argument("--adapter", default=None)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--gguf", default=str(DEFAULT_GGUF))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg, sd, reader = load_base(Path(args.gguf))
    tok = build_tokenizer(reader)
    model = build_model(cfg, sd, rank=32)
    if args.checkpoint:
        load_trainable_from_checkpoint(model, Path(args.checkpoint))
    else:
        try:
            load_adapter_into(model, Path(args.adapter) if args.adapter else DEFAULT_ADAPTER)
        except (OSError, ValueError, KeyError) as e:
            print(f"sample: {e}", file=sys.stderr)
            return 2
    model.eval()
    pre = tok.encode(args.prefix).ids
    suf = tok.encode(args.suffix).ids if args.suffix else []
    results = []
    for steps in args.steps:
        t0 = time.time()
        out = fill(model, pre, suf, args.gap, steps)
        results.append({"steps": min(steps, args.gap), "gap": args.gap, "tokens": len(out),
                        "fill": tok.decode(out), "seconds": round(time.time() - t0, 2)})
    if args.json:
        print(json.dumps({"prefix": args.prefix, "suffix": args.suffix, "results": results}, indent=1))
    else:
        for r in results:
            print(f"--- {r['steps']} steps, gap {r['gap']} ({r['tokens']} tokens kept, {r['seconds']} s)")
            print(f"{args.prefix}[[{r['fill']}]]{args.suffix}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
