"""The atheris fuzzer over the rewriter (the properties are in ``fuzz/harness.py``), coverage-guided by the
``cookiegate`` modules it instruments:

    python -m fuzz.seeds build/corpus
    python -m fuzz.fuzz_rewriter build/corpus -max_total_time=600      # libFuzzer's own flags

A failing input is written as ``crash-<hash>`` (replay it with ``python -m fuzz.fuzz_rewriter crash-...``).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["cookiegate"]):
    from fuzz.harness import check


def main() -> None:
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
