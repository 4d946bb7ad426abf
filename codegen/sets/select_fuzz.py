#!/usr/bin/env python3
"""Chooses which fuzz-found documents `corpus/fuzz/` keeps.

Every document there costs build and lint time in atlex-sets, and most of
what the `lexicon_document` fuzz target finds are variations of the same few
seeds. This keeps the documents whose generated Rust holds an item (struct,
enum, impl, fn, type, const, trait) of a shape that no other kept document
and no `corpus_*` set already has. Two items have the same shape when they
are the same token for token up to a consistent renaming of identifiers
(keywords, raw identifiers and the case of the first letter are kept), with
string contents and doc comments left aside (a doc comment with a control
character still counts). The kept documents are chosen greedily, the one
adding most new shapes first.

Usage, after building atlex-sets with every candidate in `corpus/fuzz/`:

    cargo build -p atlex-sets
    python3 codegen/sets/select_fuzz.py target/debug/build/atlex-sets-*/out \
        codegen/sets/corpus/fuzz [--delete]

It prints the documents kept; `--delete` removes the others.
"""

import glob
import os
import re
import sys

KEYWORDS = set(
    "as async await break const continue crate dyn else enum extern false fn for if impl in "
    "let loop match mod move mut pub ref return self Self static struct super trait true type "
    "unsafe use where while abstract become box do final macro override priv typeof unsized "
    "virtual yield try gen union".split()
)
TOKEN = re.compile(
    r'(?P<doc>//[^\n]*)|(?P<str>"(?:[^"\\]|\\.)*")|(?P<id>(?:r#)?[A-Za-z_][A-Za-z0-9_]*)'
    r"|(?P<num>[0-9][0-9A-Za-z_.]*)|(?P<punct>::|\S)",
    re.S,
)
ITEM_KEYWORDS = {"struct", "enum", "impl", "fn", "type", "const", "trait", "static", "use"}


def shape(tokens):
    names = {}
    out = []
    for kind, text in tokens:
        if kind == "doc":
            if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text):
                out.append("DOC!")
        elif kind == "str":
            out.append('""')
        elif kind == "id" and text not in KEYWORDS:
            raw = "r#" if text.startswith("r#") else ""
            first = text[len(raw)]
            case = "U" if first.isupper() else "l" if first.islower() else "_"
            names.setdefault(text, len(names))
            out.append(f"{raw}{case}{names[text]}")
        else:
            out.append(text)
    return " ".join(out)


def item_shapes(path):
    """The shapes of the items of one generated file, modules unwrapped."""
    with open(path, encoding="utf-8") as f:
        tokens = [(m.lastgroup, m.group()) for m in TOKEN.finditer(f.read())]
    shapes, current, stack = set(), [], []
    i = 0
    while i < len(tokens):
        text = tokens[i][1]
        at_item_level = all(s == "mod" for s in stack)
        if at_item_level and text == "mod" and i + 2 < len(tokens) and tokens[i + 2][1] == "{":
            stack.append("mod")
            current = []
            i += 3
            continue
        if text == "{":
            stack.append("block")
        elif text == "}" and stack.pop() == "mod":
            current = []
            i += 1
            continue
        current.append(tokens[i])
        if all(s == "mod" for s in stack) and text in ("}", ";"):
            if any(t in ITEM_KEYWORDS for _, t in current):
                shapes.add(shape(current))
            current = []
        i += 1
    return shapes


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out_dir, fuzz_dir = sys.argv[1], sys.argv[2]
    seen = set()
    for path in glob.glob(os.path.join(out_dir, "*.rs")):
        name = os.path.basename(path)
        if name != "all.rs" and not name.startswith("fuzz_"):
            seen |= item_shapes(path)
    candidates = {}
    for path in sorted(glob.glob(os.path.join(fuzz_dir, "*.json"))):
        stem = os.path.splitext(os.path.basename(path))[0]
        generated = os.path.join(out_dir, f"fuzz_{stem}.rs")
        candidates[path] = item_shapes(generated) - seen
    wanted = set().union(*candidates.values()) if candidates else set()
    kept, covered = [], set()
    while covered != wanted:
        best = max(candidates, key=lambda p: (len(candidates[p] - covered), -os.path.getsize(p), p))
        kept.append(best)
        covered |= candidates[best]
    print(f"{len(kept)} of {len(candidates)} kept ({len(wanted)} item shapes)", file=sys.stderr)
    for path in sorted(kept):
        print(path)
    if "--delete" in sys.argv[3:]:
        for path in candidates:
            if path not in kept:
                os.remove(path)


if __name__ == "__main__":
    main()
