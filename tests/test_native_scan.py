"""The C skip scan (``cookiegate/rewrite/_speedups.c``) against its specification (``_scan.py``): the same
stop for every input and start, with and without the set of known plain tags; the same explicit-markup answer;
built wherever a compiler is (unless the build was told to skip it), refused when stale or switched off."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
import types
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.pages import static_page
from cookiegate.rewrite import _backend, _scan
from cookiegate.rewrite._tokenizer import is_alpha
from tests.test_rewrite import realistic_page
from tests.test_rewrite_differential import hostile_documents

ROOT = Path(__file__).resolve().parent.parent

_speedups = _backend.load_speedups()
native = pytest.mark.skipif(_speedups is None, reason="the C skip scan is not built here, or is switched off")

# Pieces that reach every branch of the pattern and every byte class the C code tests: quotes, "=", the
# separators, "(", "&", "\\", NUL and a high byte, interesting names in both cases, names that only end
# like one, comments and their near misses.
_ATOMS = [b"<", b">", b"/", b"=", b'"', b"'", b" ", b"\t", b"\n", b"\r", b"\f", b"-", b"!", b"?", b"a", b"A",
          b"area", b"ArEa", b"img", b"p", b"x", b"src", b"SRC", b"data-src", b"style", b"sTyle", b"xstyle",
          b"(", b"&", b"\\", b"href", b"xlink:href", b"data", b"data-cookiegate", b"DATA-Category", b"srcset",
          b"script", b"<script", b"<meta", b"<a ", b"<img ", b"</", b"<!--", b"-->", b"--!>", b"<!-->",
          b"<!--->", b"body", b"url(", b"\x00", b"\xff", b"<p ", b"<b>", b"</b>", b"<area ", b"<abbr ",
          # SVG and MathML subtrees, what ends them and what stops them
          b"<svg", b"<SVG ", b"</svg>", b"</sVg", b"<math>", b"</math>", b"<path d=1/>", b"<g>", b"</g>", b"</p>",
          b"<desc>", b"</desc>", b"<mi>", b"<font ", b"<![CDATA[", b"]]>", b"/>", b"svg", b"<svgx>", b"</svgx>"]
_documents = st.lists(st.sampled_from(_ATOMS), max_size=40).map(b"".join)


def _python_stop(doc: bytes, start: int) -> int:
    match = _scan.SKIP.match(doc, start)
    assert match is not None
    return match.end()


@native
@settings(max_examples=3000, deadline=None)
@given(doc=_documents, start=st.integers(0, 60))
def test_the_c_scan_stops_where_the_skip_pattern_stops(doc: bytes, start: int) -> None:
    start = min(start, len(doc))
    assert _speedups.skip(doc, start, None) == _python_stop(doc, start)


@native
@settings(max_examples=300, deadline=None)
@given(doc=hostile_documents())
def test_the_c_scan_stops_where_the_skip_pattern_stops_on_hostile_documents(doc: bytes) -> None:
    for start in range(len(doc) + 1):
        assert _speedups.skip(doc, start, None) == _python_stop(doc, start), start


@native
def test_the_c_scan_stops_where_the_skip_pattern_stops_on_real_pages_from_every_offset() -> None:
    pages = [static_page(), realistic_page()]
    pages += [p.read_bytes() for p in sorted((ROOT / "cookiegate" / "demo" / "templates").glob("*.html"))]
    pages += [p.read_bytes() for p in sorted((ROOT / "tests" / "fixtures").rglob("*.htm*"))]
    assert len(pages) > 5
    for page in pages:
        for start in range(len(page) + 1):
            assert _speedups.skip(page, start, None) == _python_stop(page, start), (start, page[start : start + 40])


@native
@settings(max_examples=1500, deadline=None)
@given(doc=_documents, start=st.integers(0, 60), data=st.data())
def test_the_c_scan_consumes_exactly_the_known_plain_tags_the_python_scan_consumes(
    doc: bytes, start: int, data: st.DataObject
) -> None:
    # Known tags drawn from the document's own "<letter ... >" spans, so that some of them are hit.
    spans = [doc[i : doc.find(b">", i) + 1] for i in range(len(doc) - 1)
             if doc[i] == 0x3C and is_alpha(doc[i + 1]) and doc.find(b">", i) > 0]
    plain = set(data.draw(st.lists(st.sampled_from(spans), max_size=6))) if spans else set()
    plain.add(b"<b>")
    start = min(start, len(doc))
    assert _speedups.skip(doc, start, plain) == _scan.skip(doc, start, plain)


@native
def test_known_plain_tags_carry_the_scan_over_tags_the_pattern_stops_at() -> None:
    doc = b'<p>a <img src="/x.png"> b <img src="/y.png"> <script src=/z.js></script>'
    first = doc.index(b"<img")
    assert _speedups.skip(doc, 0, None) == first
    known = {b'<img src="/x.png">'}
    assert _speedups.skip(doc, 0, known) == doc.index(b'<img src="/y.png">')
    known.add(b'<img src="/y.png">')
    assert _speedups.skip(doc, 0, known) == doc.index(b"<script")
    assert _scan.skip(doc, 0, known) == doc.index(b"<script")


@native
@settings(max_examples=1500, deadline=None)
@given(doc=st.lists(st.sampled_from([b"data", b"DATA", b"-", b"c", b"cookiegate", b"COOKIEGATE", b"category",
                                     b"Category", b"categor", b"cookiegat", b"data-c", b"x", b" ", b"\xff"]),
                    max_size=12).map(b"".join))
def test_the_c_explicit_markup_search_answers_as_the_python_one(doc: bytes) -> None:
    assert _speedups.has_explicit_markup(doc) is _scan.has_explicit_markup(doc)


@native
def test_the_c_scan_clamps_its_start_and_refuses_what_it_cannot_read() -> None:
    doc = b"text <b>bold</b>"
    assert _speedups.skip(doc, -5, None) == len(doc) == _python_stop(doc, 0)
    assert _speedups.skip(doc, 999, None) == len(doc)
    with pytest.raises(TypeError):
        _speedups.skip(bytearray(doc), 0, None)
    with pytest.raises(TypeError):
        _speedups.skip(b'<img src="/x.png">', 0, 42)  # not a container: refused at its first lookup, as ``in`` is
    with pytest.raises(TypeError):
        _speedups.skip(doc, 0)
    with pytest.raises(TypeError):
        _speedups.has_explicit_markup("data-category")
    # Any container answers as the set does (the rewriter's memo of known tags is a bounded cache).
    img = b'<img src="/x.png"><i>'
    assert _speedups.skip(img, 0, {img[:18]}) == _speedups.skip(img, 0, (img[:18],)) == len(img)


def test_the_c_scan_was_compiled_with_the_name_tables_of_its_specification() -> None:
    if _speedups is None:
        pytest.skip("the C skip scan is not built here, or is switched off")
    assert _speedups.NAMES == _scan.NAME_TABLES


def test_the_c_scan_is_built_wherever_a_c_compiler_and_python_headers_are(monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite must exercise the speedup where it can be built (this machine, CI), not silently fall back to
    # the pure-Python scan everywhere.
    if os.environ.get("COOKIEGATE_NATIVE") == "skip":
        pytest.skip("installed with COOKIEGATE_NATIVE=skip: built without the C scan on purpose")
    compiler = str(sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if shutil.which(os.environ.get("CC") or compiler) is None or not headers.exists():
        pytest.skip("no C compiler or Python headers here: the pure-Python scan is the only one")
    monkeypatch.delenv("COOKIEGATE_PURE_PYTHON", raising=False)
    assert _backend.load_speedups() is not None, "pip install -e . did not build cookiegate/rewrite/_speedups.c"


def test_a_stale_or_switched_off_speedup_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    stale = types.ModuleType("cookiegate.rewrite._speedups")
    stale.API = _backend.SCAN_API + 1  # type: ignore[attr-defined]
    stale.NAMES = _scan.NAME_TABLES  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cookiegate.rewrite._speedups", stale)
    monkeypatch.delenv("COOKIEGATE_PURE_PYTHON", raising=False)
    assert _backend.load_speedups() is None
    stale.API = _backend.SCAN_API  # type: ignore[attr-defined]
    assert _backend.load_speedups() is stale
    stale.NAMES = (_scan.NAME_TABLES[0][1:], *_scan.NAME_TABLES[1:])  # type: ignore[attr-defined]
    assert _backend.load_speedups() is None  # built from other name tables
    stale.NAMES = _scan.NAME_TABLES  # type: ignore[attr-defined]
    monkeypatch.setenv("COOKIEGATE_PURE_PYTHON", "1")
    assert _backend.load_speedups() is None


def test_without_the_speedup_the_python_scan_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cookiegate.rewrite._speedups", None)  # an import of it now fails
    monkeypatch.delenv("COOKIEGATE_PURE_PYTHON", raising=False)
    assert _backend.load_speedups() is None


def test_the_backend_in_use_is_the_one_chosen_at_import() -> None:
    expected = "python" if os.environ.get("COOKIEGATE_PURE_PYTHON", "") not in ("", "0") or _speedups is None else "c"
    assert _backend.SCAN_BACKEND == expected
