#!/usr/bin/env python3
"""Generate Sources/InfillDocuments/Lexicons/: the tone lexicons, the resource files InfillDocuments
loads (Bundle.module) and tools/tones/measure.py reads.

Writes vader.tsv (`word<TAB>mean valence`, one a line) and formal.txt, casual.txt, cautious.txt,
enthusiastic.txt (`+word` preferred, `-word` avoided, one a line); Sources/InfillDocuments/
ToneLexicon.swift reads them.

Sources:
  * VADER sentiment lexicon (vader_lexicon.txt, MIT licence, C.J. Hutto), from the PyPI
    package vaderSentiment 3.3.2: `pip download vaderSentiment==3.3.2 --no-deps`.
    Only plain words are kept (lower-case letters, apostrophe, hyphen), with their mean valence.
  * formal.txt, casual.txt, cautious.txt, enthusiastic.txt in this folder: word lists written for
    Infill ('-word' = a word the tone avoids).

Usage: python3 tools/tones/generate.py [--wheel PATH_TO_vaderSentiment-3.3.2-py2.py3-none-any.whl]
Without --wheel the wheel is fetched with pip into a temporary folder.
"""
import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "Sources", "InfillDocuments", "Lexicons")
LEXICON_SHA256 = "1ec9c6e9ee19aade328f8beb393a6afa71a5bb3acf7d3cc22d4ef568df374bf5"
WORD = re.compile(r"^[a-z][a-z'-]*$")
LISTS = ["formal", "casual", "cautious", "enthusiastic"]


def vader_lexicon(wheel):
    if wheel is None:
        tmp = tempfile.mkdtemp()
        subprocess.run([sys.executable, "-m", "pip", "download", "vaderSentiment==3.3.2", "--no-deps",
                        "-q", "-d", tmp], check=True)
        wheel = os.path.join(tmp, "vaderSentiment-3.3.2-py2.py3-none-any.whl")
    with zipfile.ZipFile(wheel) as z:
        data = z.read("vaderSentiment/vader_lexicon.txt")
    digest = hashlib.sha256(data).hexdigest()
    if digest != LEXICON_SHA256:
        sys.exit(f"vader_lexicon.txt sha256 {digest} != expected {LEXICON_SHA256}")
    entries = []
    for line in data.decode("utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or not WORD.match(parts[0]):
            continue
        entries.append((parts[0], float(parts[1])))
    return entries


def word_list(name):
    words = []
    with open(os.path.join(HERE, name + ".txt"), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            avoid = line.startswith("-")
            word = line[1:] if avoid else line
            if not WORD.match(word):
                sys.exit(f"{name}.txt: not a plain lower-case word: {line!r}")
            words.append(("-" if avoid else "+") + word)
    return words


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--wheel")
    args = parser.parse_args()
    vader = vader_lexicon(args.wheel)
    os.makedirs(OUT, exist_ok=True)
    write(os.path.join(OUT, "vader.tsv"), [f"{w}\t{v:g}" for w, v in vader])
    for name in LISTS:
        write(os.path.join(OUT, name + ".txt"), word_list(name))
    print(f"wrote {OUT}: {len(vader)} VADER words, lists: " +
          ", ".join(f"{n} {len(word_list(n))}" for n in LISTS))


def write(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
