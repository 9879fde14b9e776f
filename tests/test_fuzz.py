"""The project's fuzzers, run for a few seconds each (their long runs are recorded in docs/hardening.md), and
their properties checked on every seed document: what fails here is what the fuzzers would find first.

Setup they need besides the test extra (CI: see .ci/run): ``pip install atheris`` (wheels for CPython 3.11) and
``apt-get install clang`` (libFuzzer with AddressSanitizer and UndefinedBehaviorSanitizer). Without them the
runs skip with that reason; the seed checks always run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz.harness import check
from fuzz.seeds import tokenizer_inputs, tree_construction_documents, write_corpus

ROOT = Path(__file__).resolve().parent.parent
SECONDS = "5"


def test_the_seed_corpus_holds_every_html5lib_test_input() -> None:
    documents, inputs = tree_construction_documents(), tokenizer_inputs()
    assert len(documents) == 1796 and len(inputs) > 2500
    assert b"<svg><![CDATA[foo]]>" in documents or any(b"CDATA" in d for d in documents)


@pytest.mark.parametrize("permissions", range(5))
def test_every_property_holds_for_every_tree_construction_document(permissions: int) -> None:
    # The harness's checks (oracle, chunking, both scans, warmed memos, the page memo) on each seed, for one
    # visitor each run; the cut position varies with the document.
    for index, document in enumerate(tree_construction_documents()):
        check(bytes([permissions, index % 256]) + document)


def test_what_the_fuzzers_found_stays_fixed() -> None:
    # Inputs the fuzzers failed on (fuzz/regressions), replayed as they were found.
    found = sorted((ROOT / "fuzz" / "regressions").glob("crash-*"))
    assert found
    for path in found:
        check(path.read_bytes())


def test_every_property_holds_for_every_tokenizer_input() -> None:
    for index, document in enumerate(tokenizer_inputs()):
        check(bytes([index % 5, (index * 7) % 256]) + document, oracle=index % 4 == 0)


def test_the_atheris_fuzzer_runs_clean_for_a_few_seconds(tmp_path: Path) -> None:
    if importlib.util.find_spec("atheris") is None:
        pytest.skip("atheris is not installed (pip install atheris)")
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    done = subprocess.run(
        [sys.executable, "-m", "fuzz.fuzz_rewriter", str(corpus), f"-max_total_time={SECONDS}", "-runs=20000",
         f"-artifact_prefix={tmp_path}/"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "Done" in done.stderr and not list(tmp_path.glob("crash-*"))


def test_the_libfuzzer_target_for_the_c_scan_runs_clean_under_sanitizers(tmp_path: Path) -> None:
    clang = os.environ.get("CLANG") or shutil.which("clang")
    if clang is None:
        pytest.skip("clang is not installed (apt-get install clang): libFuzzer and the sanitizers come with it")
    binary = tmp_path / "scan_fuzzer"
    built = subprocess.run([clang, "-g", "-O1", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all",
                            str(ROOT / "fuzz" / "scan_fuzzer.c"), "-o", str(binary)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-4000:]
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    done = subprocess.run([str(binary), str(corpus), f"-max_total_time={SECONDS}", f"-artifact_prefix={tmp_path}/"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    assert not list(tmp_path.glob("crash-*")) and not list(tmp_path.glob("leak-*"))
