"""Reference logits of the real base model (SmolLM2-135M-Instruct Q4_1 GGUF) for the parity test.

    python3 tools/reference/base_reference.py [PATH.gguf]

Token ids come from an HF `tokenizers` BPE built from the GGUF's own vocabulary and merges
(SmolLM2's pre-tokenizer: single digits, then GPT-2 byte-level), the forward pass from
reference.py in float64. Writes Tests/Fixtures/base-reference.json.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import reference  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CASES = [
    ("The capital of France is", True),
    ("def fibonacci(n):\n    if n < 2:\n        return", True),
    ("Dear team, the quarterly report shows that revenue grew by 12% while costs", True),
    ("Once upon a time, in a small village by the sea, there lived", False),
]


def hf_tokenizer(path):
    import gguf
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    r = gguf.GGUFReader(path)
    tokens = r.fields["tokenizer.ggml.tokens"].contents()
    merges = [tuple(m.split(" ")) for m in r.fields["tokenizer.ggml.merges"].contents()]
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)])
    tok.decoder = decoders.ByteLevel()
    return tok


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/infill/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    tok = hf_tokenizer(path)
    w = reference.load_gguf(path)
    cases = []
    for text, causal in CASES:
        ids = tok.encode(text).ids
        logits = reference.forward(w, ids, causal=causal, rows=[len(ids) - 1])[0]
        top = np.argsort(-logits)[:20]
        cases.append({"text": text, "tokens": ids, "attention": "causal" if causal else "bidirectional",
                      "top_ids": [int(i) for i in top], "top_logits": [float(logits[i]) for i in top]})
        print(text[:30], ids[:8], [tok.decode([int(i)]) for i in top[:5]])
    json.dump({"generator": "tools/reference/base_reference.py", "model": os.path.basename(path), "cases": cases},
              open(os.path.join(ROOT, "Tests", "Fixtures", "base-reference.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
