"""Export a training checkpoint as the diffusion adapter of docs/ADAPTER.md, plus a parity fixture.

  python3 export.py [--checkpoint scratch/ckpt.pt] [--out ../models/smollm2-135m-diffusion]
                    [--eval-json FILE] [--dtype f32|bf16]

Writes adapter.safetensors (HF layout), manifest.json (base sha256, mask/null ids, shift,
attention, rank, alpha, training tokens, date, evaluation numbers) and parity.json: for two short
canvases containing mask ids, the merged model's fp32 logits (no bf16) for the tokens AT a few
masked positions (read at position - 1, Dream's shift): top-10 ids and values. The mask id itself
is excluded from the ranking (it is never predicted).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gguf_base import load_base, build_tokenizer, sha256_file, DEFAULT_GGUF, MASK_ID, NULL_ID  # noqa: E402
from model import build_model  # noqa: E402
from adapter_io import adapter_tensors, load_trainable_from_checkpoint, merged_state_dict  # noqa: E402

PARITY_TEXTS = [
    ("The quarterly report shows that revenue grew by", 6, "percent, driven by strong demand in Europe."),
    ("Dear Ms. Chen,\n\nThank you for your letter about the", 8, ". We will reply within two weeks."),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=str(HERE / "scratch" / "ckpt.pt"))
    ap.add_argument("--out", default=str(HERE.parent / "models" / "smollm2-135m-diffusion"))
    ap.add_argument("--gguf", default=str(DEFAULT_GGUF))
    ap.add_argument("--eval-json", default=None, help="evaluate.py --json output to record in the manifest")
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="bf16",
                    help="adapter tensor type (bf16 halves the file; the merge is done in fp32 either way)")
    ap.add_argument("--start-token", type=int, default=0,
                    help="token at position 0 of every training canvas (document regime: <|endoftext|> = 0); -1 = none")
    ap.add_argument("--previous-tokens", type=int, default=0,
                    help="training tokens of the adapter this checkpoint was initialised from")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gguf = Path(args.gguf)
    cfg, sd, reader = load_base(gguf)
    tok = build_tokenizer(reader)
    model = build_model(cfg, sd, rank=32, alpha=32.0, fp32=True)
    state = load_trainable_from_checkpoint(model, Path(args.checkpoint))
    tensors = adapter_tensors(model, torch.float32 if args.dtype == "f32" else torch.bfloat16)
    if args.dtype == "bf16":
        # Compare like with like below: the LoRA model holds the same bf16-rounded values as the file.
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(torch.bfloat16).float())
    save_file(tensors, str(out / "adapter.safetensors"), metadata={"format": "infill-diffusion-adapter", "rank": "32", "alpha": "32"})

    # Parity: merged fp32 weights, every layer bidirectional, no bf16 anywhere.
    merged = merged_state_dict(sd, {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}, 32, 32.0)
    mm = build_model(cfg, merged, rank=0, fp32=True)
    mm.mask_row.data.copy_(merged["model.embed_tokens.weight"][MASK_ID])
    mm.eval(); model.eval()
    canvases = []
    with torch.no_grad():
        for prefix, gap, suffix in PARITY_TEXTS:
            start = [args.start_token] if args.start_token >= 0 else []
            ids = start + tok.encode(prefix).ids + [MASK_ID] * gap + tok.encode(" " + suffix.lstrip(" ") if not suffix.startswith((".", ",")) else suffix).ids
            pos = [i for i, t in enumerate(ids) if t == MASK_ID]
            pick = [pos[0], pos[len(pos) // 2], pos[-1]]
            x = torch.tensor([ids])
            lg = mm.logits_at(x, torch.tensor([pick]))[0]
            lg_unmerged = model.logits_at(x, torch.tensor([pick]))[0]
            finite = torch.isfinite(lg_unmerged)
            if not torch.equal(finite, torch.isfinite(lg)):
                print("export: merged and LoRA models disagree on which logits are finite", file=sys.stderr)
                return 1
            err = float((lg - lg_unmerged)[finite].abs().max())
            if not err <= 1e-2:
                print(f"export: merged vs LoRA logits differ by {err}", file=sys.stderr)
                return 1
            entries = []
            for p, row in zip(pick, lg):
                v, i = torch.topk(row, 10)
                entries.append({"position": p, "top_ids": i.tolist(), "top_logits": [round(float(a), 5) for a in v]})
            canvases.append({"text": [prefix, gap, suffix], "tokens": ids, "positions": entries})
    parity = {
        "description": "fp32 logits of base GGUF (dequantised) + this adapter merged, bidirectional attention, "
                       "Dream logit shift: the entry for position p is the distribution of the token AT p, read "
                       "from the output at p-1. The mask id is excluded from the top-10.",
        "mask_token_id": MASK_ID, "null_token_id": NULL_ID, "mask_id_excluded": True,
        "canvases": canvases,
    }
    (out / "parity.json").write_text(json.dumps(parity, indent=1) + "\n")

    manifest = {
        "name": out.name,
        "base": {"file": gguf.name, "sha256": sha256_file(gguf)},
        "mask_token_id": MASK_ID,
        "null_token_id": NULL_ID,
        **({"start_token_id": args.start_token} if args.start_token >= 0 else {}),
        "logit_shift": True,
        "attention": "bidirectional",
        "rank": 32,
        "alpha": 32,
        "dtype": args.dtype.upper(),
        "training_tokens": int(state["tokens"]) + args.previous_tokens,
        "training_steps": int(state["step"]),
        "training_minutes": round(state["train_seconds"] / 60, 1),
        "date": dt.date.today().isoformat(),
    }
    if args.eval_json:
        manifest["evaluation"] = json.loads(Path(args.eval_json).read_text())
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    size = (out / "adapter.safetensors").stat().st_size
    print(f"wrote {out}: adapter {size / 1e6:.1f} MB, {state['tokens']} training tokens; merged-vs-LoRA max |dlogit| {err:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
