"""Build the training corpus from text that Debian packages carry, with a held-out split.

Sources (install with `apt-get install python3.11-doc wordnet-base dict-gcide`):
  - python3.11-doc: the reStructuredText sources of the Python 3.11 documentation, cleaned to
    prose (markup roles unwrapped, directives and code blocks dropped). Licence: PSF-2.0.
  - wordnet-base: WordNet 3.0 glosses and example sentences. Licence: WordNet 3.0 (Princeton, permissive).
  - dict-gcide: GNU Collaborative International Dictionary of English definitions. Licence: GPL-2.0+.
Only the adapter weights trained on this text are shipped, never the text itself.

The split is by document (a file, or a block of dictionary entries): a stable hash of the document
name puts ~4% of documents in `heldout.txt`, which training never reads.

Writes OUT/train.txt, OUT/heldout.txt, OUT/heldout_prose.txt (the documentation prose only) (documents separated by a blank line + form feed line) and
OUT/manifest.json (copied to training/corpus-manifest.json). Usage: python3 build_corpus.py [--out training/scratch/corpus]
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
import zlib
from pathlib import Path

DOC_SEP = "\n\f\n"
PYDOC = Path("/usr/share/doc/python3.11/html/_sources")
WORDNET = Path("/usr/share/wordnet")
GCIDE = Path("/usr/share/dictd/gcide.dict.dz")


def heldout(name: str, percent: int) -> bool:
    return int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % 100 < percent


_ROLE = re.compile(r":[a-zA-Z:]+:`!?~?([^`<]*?)(?:\s*<[^>]*>)?`")
_LINK = re.compile(r"`([^`<]+?)\s*<[^>]*>`_+")
_LIT = re.compile(r"``([^`]+)``")
_EMPH = re.compile(r"\*\*?([^*\n]+)\*\*?")
_REFTAIL = re.compile(r"`([^`]+)`_*")


def clean_rst(text: str) -> str:
    """reStructuredText -> plain prose paragraphs (code blocks, directives, tables dropped)."""
    out: list[str] = []
    para: list[str] = []
    skip_indent = None  # drop an indented block after '::' or a directive

    def flush():
        if para:
            p = " ".join(s.strip() for s in para)
            p = re.sub(r"\s+", " ", p).strip()
            if len(p) > 40 and not p.startswith(("+", "|", "=")):
                out.append(p)
            para.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if not line.strip() or indent > skip_indent:
                continue
            skip_indent = None
        s = line.strip()
        if not s:
            flush()
            continue
        if s.startswith(".."):
            flush()
            skip_indent = indent
            continue
        if re.fullmatch(r"[=\-~^*#+`'\".:_]{3,}", s):  # heading underline / table rule
            if para:
                para.clear()  # the previous line was a heading: drop it
            continue
        if s.startswith((">>>", "...", "$ ", "|", "+-")):
            flush()
            skip_indent = indent - 1 if indent else -1
            if s.startswith(("|", "+-")):
                skip_indent = None
            continue
        if indent >= 3 and not para and not out:
            continue
        para.append(s)
        if s.endswith("::"):
            para[-1] = s[:-1] if not s.endswith(" ::") else s[:-3]
            flush()
            skip_indent = indent
    flush()
    body = "\n\n".join(out)
    body = _LINK.sub(r"\1", body)
    body = _ROLE.sub(r"\1", body)
    body = _LIT.sub(r"\1", body)
    body = _EMPH.sub(r"\1", body)
    body = _REFTAIL.sub(r"\1", body)
    return body


def python_docs() -> list[tuple[str, str]]:
    docs = []
    for f in sorted(PYDOC.rglob("*.rst.txt")):
        rel = str(f.relative_to(PYDOC))
        if rel.startswith(("c-api/", "whatsnew/changelog")):
            continue  # C API reference and changelog are mostly lists of identifiers
        text = clean_rst(f.read_text(encoding="utf-8", errors="replace"))
        if len(text) > 500:
            docs.append((f"pydoc:{rel}", text))
    return docs


def wordnet_docs(block: int = 200) -> list[tuple[str, str]]:
    lines = []
    for pos, word in (("noun", "noun"), ("verb", "verb"), ("adj", "adjective"), ("adv", "adverb")):
        for row in (WORDNET / f"data.{pos}").read_text(encoding="latin-1").splitlines():
            if row.startswith("  ") or "|" not in row:
                continue
            head, gloss = row.split("|", 1)
            fields = head.split()
            n = int(fields[3], 16)
            lemmas = [fields[4 + 2 * i].replace("_", " ") for i in range(n)]
            gloss = gloss.strip().replace("; \"", ". For example: \"")
            lines.append(f"{lemmas[0].capitalize()} ({word}): {gloss}")
    docs = []
    for i in range(0, len(lines), block):
        docs.append((f"wordnet:{i // block}", "\n".join(lines[i:i + block])))
    return docs


def gcide_docs(block: int = 150) -> list[tuple[str, str]]:
    raw = zlib.decompress(GCIDE.read_bytes(), 16 + zlib.MAX_WBITS).decode("utf-8", errors="replace")
    entries = []
    for chunk in raw.split("\n\n"):
        chunk = re.sub(r"\[1913 Webster\]|\[Webster 1913 Suppl\.\]|\[PJC\]|\[WordNet 1\.5\]", "", chunk)
        m = re.match(r"\s*([A-Z][\w' -]*) \\[^\\]*\\,?\s*(.*)", chunk, re.S)
        if not m:
            continue
        word, rest = m.group(1), m.group(2)
        rest = re.sub(r"\[[^\]]*\]", "", rest)  # etymologies
        rest = re.sub(r"[{}]", "", rest)
        rest = re.sub(r"\s+", " ", rest).strip()
        if 60 < len(rest) < 1200:
            entries.append(f"{word}: {rest}")
    docs = []
    for i in range(0, len(entries), block):
        docs.append((f"gcide:{i // block}", "\n".join(entries[i:i + block])))
    return docs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(Path(__file__).parent / "scratch" / "corpus"))
    ap.add_argument("--manifest", default=str(Path(__file__).parent / "corpus-manifest.json"),
                    help="also write the manifest here (committed; '' to skip)")
    ap.add_argument("--heldout-percent", type=int, default=4)
    ap.add_argument("--gcide-max-docs", type=int, default=60, help="cap the archaic dictionary text")
    ap.add_argument("--wordnet-max-docs", type=int, default=80, help="cap the gloss text")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sources = [
        ("python3.11-doc", "PSF-2.0", "Debian package python3.11-doc (Python 3.11 documentation sources)", python_docs, None),
        ("wordnet-base", "WordNet-3.0", "Debian package wordnet-base (WordNet 3.0 glosses and examples)", wordnet_docs, args.wordnet_max_docs),
        ("dict-gcide", "GPL-2.0-or-later", "Debian package dict-gcide (GNU Collaborative International Dictionary of English)", gcide_docs, args.gcide_max_docs),
    ]
    manifest = {"sources": [], "separator": "form feed line between documents", "heldout_percent": args.heldout_percent}
    train, held, held_prose = [], [], []
    for pkg, lic, desc, fn, cap in sources:
        try:
            docs = fn()
        except OSError as e:
            print(f"build_corpus: skipping {pkg}: {e} (apt-get install {pkg})", file=sys.stderr)
            continue
        if cap is not None:
            docs = docs[::max(1, len(docs) // cap)][:cap]
        ntr = nho = btr = bho = 0
        for name, text in docs:
            if heldout(name, args.heldout_percent):
                held.append(text); nho += 1; bho += len(text.encode())
                if pkg == "python3.11-doc":
                    held_prose.append(text)
            else:
                train.append(text); ntr += 1; btr += len(text.encode())
        manifest["sources"].append({"package": pkg, "description": desc, "licence": lic,
                                    "train_docs": ntr, "train_bytes": btr,
                                    "heldout_docs": nho, "heldout_bytes": bho})
        print(f"{pkg}: {ntr} train docs ({btr/1e6:.2f} MB), {nho} held-out docs ({bho/1e6:.2f} MB)")
    (out / "train.txt").write_text(DOC_SEP.join(train), encoding="utf-8")
    (out / "heldout.txt").write_text(DOC_SEP.join(held), encoding="utf-8")
    (out / "heldout_prose.txt").write_text(DOC_SEP.join(held_prose), encoding="utf-8")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if args.manifest:
        Path(args.manifest).write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
