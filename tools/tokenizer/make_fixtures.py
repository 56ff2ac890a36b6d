#!/usr/bin/env python3
"""Builds the tokenizer parity fixtures in Tests/Fixtures/tokenizer/.

  python3 tools/tokenizer/make_fixtures.py [--gguf PATH]

1. smollm2/tokenizer.json: SmolLM2-135M-Instruct's tokenizer rebuilt from the GGUF metadata
   (tokens, merges, token types; control tokens become special added tokens) with SmolLM2's HF
   pipeline: no normalizer, Digits(individual_digits) + ByteLevel(add_prefix_space=False).
2. qwen2-tiny/tokenizer.json: a ~1000-token BPE trained here with HF `tokenizers` on the
   corpus and a few Python standard-library sources, using Qwen2's NFC normalizer and
   Split(regex, Isolated) + ByteLevel(use_regex=False) pre-tokenizer; llama3-tiny and gpt2-tiny
   likewise with Llama 3's split regex and ignore_merges, and with GPT-2's plain ByteLevel.
3. reference.json: the parity cases (corpus.txt split at "=====" lines, plus seeded random
   strings) and, per tokenizer, HF `tokenizers`' ids with special tokens parsed ("special") and
   with special tokens treated as text ("plain").
"""
import argparse
import inspect
import json
import random
from pathlib import Path

import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "Fixtures" / "tokenizer"
QWEN2_REGEX = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
LLAMA3_REGEX = QWEN2_REGEX.replace(r"|\p{N}|", r"|\p{N}{1,3}|")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def smollm2_from_gguf(path: Path) -> Tokenizer:
    from gguf import GGUFReader

    reader = GGUFReader(str(path))

    def strings(key):
        field = reader.fields[key]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    tokens = strings("tokenizer.ggml.tokens")
    merges = strings("tokenizer.ggml.merges")
    field = reader.fields["tokenizer.ggml.token_type"]
    types = [int(field.parts[i][0]) for i in field.data]
    assert bytes(reader.fields["tokenizer.ggml.pre"].parts[-1]).decode() == "smollm"
    vocab = {t: i for i, t in enumerate(tokens)}
    data = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for i, t in enumerate(tokens) if types[i] == 3
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        ]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": merges},
    }
    return Tokenizer.from_str(json.dumps(data))


def train_tiny(corpus: list[str], kind: str) -> Tokenizer:
    """A ~1000-token byte-level BPE with the pre-tokenizer (and normalizer) of `kind`."""
    import difflib, json as json_module, textwrap
    tok = Tokenizer(models.BPE(ignore_merges=(kind == "llama3")))
    if kind == "qwen2":
        tok.normalizer = normalizers.NFC()
    if kind == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    else:
        regex = QWEN2_REGEX if kind == "qwen2" else LLAMA3_REGEX
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1000, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    texts = corpus + [inspect.getsource(m) for m in (textwrap, difflib, json_module.decoder)]
    tok.train_from_iterator(texts, trainer=trainer)
    tok.add_tokens(["<tool_call>"])  # a non-special added token: always matched
    return tok


def random_cases(seed: int = 2026, count: int = 40) -> list[str]:
    rng = random.Random(seed)
    pools = [
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "0123456789",
        "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
        "    \t\n\r\u00a0\u2003\u3000\u0085\u000b\u000c",
        "'s't're've'm'll'd'S'T'RE",
        "éèêëàâäôöüçñßøåÆŒıİ",
        "\u0300\u0301\u0302\u0303\u0308\u0327\u0331\u20dd",
        "中文日本語한국어ひらがなカタカナ",
        "😀👍🏽\u200d❤️🇩🇪🦀\ufe0f",
        "١٢٣४५६½²Ⅻ①",
    ]
    specials = SPECIALS + ["<tool_call>", "<file_sep>", "<|im_end|"]
    cases = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(10, 80)):
            roll = rng.random()
            if roll < 0.04:
                parts.append(rng.choice(specials))
            elif roll < 0.08:
                # Any scalar but surrogates.
                value = rng.choice([rng.randint(0, 0x2FF), rng.randint(0x300, 0xD7FF), rng.randint(0xE000, 0x10FFFF)])
                parts.append(chr(value))
            elif roll < 0.12:
                parts.append(chr(rng.randint(0, 0x1F)))
            else:
                pool = rng.choice(pools)
                parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 6))))
        cases.append("".join(parts))
    return cases


def ids(tok: Tokenizer, text: str, parse_special: bool) -> list[int]:
    tok.encode_special_tokens = not parse_special
    return tok.encode(text, add_special_tokens=False).ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", type=Path,
                        default=Path.home() / ".cache/infill/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    args = parser.parse_args()
    corpus = (OUT / "corpus.txt").read_text(encoding="utf-8").split("\n=====\n")
    cases = corpus + random_cases()

    built = {"smollm2": smollm2_from_gguf(args.gguf)}
    for kind in ("qwen2", "llama3", "gpt2"):
        built[f"{kind}-tiny"] = train_tiny(corpus, kind)
    for name, tok in built.items():
        (OUT / name).mkdir(parents=True, exist_ok=True)
        tok.save(str(OUT / name / "tokenizer.json"), pretty=(name != "smollm2"))

    reference = {
        "generator": f"tools/tokenizer/make_fixtures.py (tokenizers {tokenizers.__version__})",
        "tokenizers": {},
    }
    for name, tok in built.items():
        reference["tokenizers"][name] = [
            {"special": ids(tok, text, True), "plain": ids(tok, text, False)} for text in cases
        ]
    reference["cases"] = cases
    with open(OUT / "reference.json", "w", encoding="utf-8") as f:
        json.dump(reference, f, ensure_ascii=True, separators=(",", ":"))
    sizes = ", ".join(f"{name} {tok.get_vocab_size()} tokens" for name, tok in built.items())
    print(f"{len(cases)} cases, {sum(map(len, cases))} characters; {sizes}")


if __name__ == "__main__":
    main()
