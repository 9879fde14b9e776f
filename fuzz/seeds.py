"""Seed documents for the fuzzers and the tree-construction test: every input of html5lib-tests'
tree-construction and tokenizer tests (a copy with its MIT licence is in ``fuzz/html5lib-tests``).

    python -m fuzz.seeds DIRECTORY     # writes each document to its own file (a libFuzzer/atheris corpus)
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent / "html5lib-tests"


@functools.cache
def tree_construction_documents() -> tuple[bytes, ...]:
    """The ``#data`` of every tree-construction test (fragment tests included), in file order."""
    documents: list[bytes] = []
    for path in sorted((TESTS / "tree-construction").rglob("*.dat")):
        lines = path.read_bytes().split(b"\n")
        i = 0
        while i < len(lines):
            if lines[i] != b"#data":
                i += 1
                continue
            i += 1
            data: list[bytes] = []
            # The data runs to the next section header (#errors, or #new-errors in newer files).
            while i < len(lines) and not lines[i].startswith(b"#errors") and lines[i] != b"#new-errors":
                data.append(lines[i])
                i += 1
            documents.append(b"\n".join(data))
    return tuple(documents)


@functools.cache
def tokenizer_inputs() -> tuple[bytes, ...]:
    """The ``input`` of every tokenizer test, as UTF-8 (``doubleEscaped`` inputs unescaped first)."""
    inputs: list[bytes] = []
    for path in sorted((TESTS / "tokenizer").glob("*.test")):
        tests = json.loads(path.read_text("utf-8")).get("tests", [])
        for test in tests:
            text = test["input"]
            if test.get("doubleEscaped"):
                text = text.encode("ascii", "backslashreplace").decode("unicode-escape")
            inputs.append(text.encode("utf-8", "surrogatepass"))
    return tuple(inputs)


def write_corpus(directory: Path) -> int:
    """Write every seed document to ``directory`` (one file each, named by its hash); returns how many."""
    directory.mkdir(parents=True, exist_ok=True)
    seeds = set(tree_construction_documents()) | set(tokenizer_inputs())
    for seed in seeds:
        (directory / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
    return len(seeds)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(f"{write_corpus(Path(sys.argv[1]))} seed documents written to {sys.argv[1]}")
