"""The C skip scan (``cookiegate/_scan.c``) against its specification, the pure-Python scan: the same stop
for every input and start, with and without the set of known plain tags; the same explicit-markup answer;
built wherever a compiler is, refused when stale or switched off."""

from __future__ import annotations

import shutil
import sysconfig
import types
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.pages import static_page
from cookiegate import rewrite
from tests.test_rewrite import realistic_page
from tests.test_rewrite_differential import hostile_documents

ROOT = Path(__file__).resolve().parent.parent

if rewrite.SCAN_BACKEND == "c":
    from cookiegate import _scan  # type: ignore[attr-defined]

    SKIPPER = _scan.Skipper(
        tuple(sorted(rewrite._SPECIAL_NAMES)),
        tuple(sorted(rewrite._INTERESTING_ATTRS | {b"style"})),
        tuple(sorted(rewrite._A_INTERESTING | {b"style"})),
    )

native = pytest.mark.skipif(rewrite.SCAN_BACKEND != "c", reason="the C skip scan is not built here")

# Pieces that reach every branch of the pattern and every byte class the C code tests: quotes, "=", the
# separators, "(", "&", "\\", NUL and a high byte, interesting names in both cases, names that only end
# like one, comments and their near misses.
_ATOMS = [b"<", b">", b"/", b"=", b'"', b"'", b" ", b"\t", b"\n", b"\r", b"\f", b"-", b"!", b"?", b"a", b"A",
          b"area", b"ArEa", b"img", b"p", b"x", b"src", b"SRC", b"data-src", b"style", b"sTyle", b"xstyle",
          b"(", b"&", b"\\", b"href", b"xlink:href", b"data", b"data-cookiegate", b"DATA-Category", b"srcset",
          b"script", b"<script", b"<meta", b"<a ", b"<img ", b"</", b"<!--", b"-->", b"--!>", b"<!-->",
          b"<!--->", b"body", b"url(", b"\x00", b"\xff", b"<p ", b"<b>", b"</b>", b"<area ", b"<abbr "]
_documents = st.lists(st.sampled_from(_ATOMS), max_size=40).map(b"".join)


def _python_stop(doc: bytes, start: int) -> int:
    match = rewrite._SKIP.match(doc, start)
    assert match is not None
    return match.end()


@native
@settings(max_examples=3000, deadline=None)
@given(doc=_documents, start=st.integers(0, 60))
def test_the_c_scan_stops_where_the_skip_pattern_stops(doc: bytes, start: int) -> None:
    start = min(start, len(doc))
    assert SKIPPER.skip(doc, start, None) == _python_stop(doc, start)


@native
@settings(max_examples=300, deadline=None)
@given(doc=hostile_documents())
def test_the_c_scan_stops_where_the_skip_pattern_stops_on_hostile_documents(doc: bytes) -> None:
    for start in range(len(doc) + 1):
        assert SKIPPER.skip(doc, start, None) == _python_stop(doc, start), start


@native
def test_the_c_scan_stops_where_the_skip_pattern_stops_on_real_pages_from_every_offset() -> None:
    pages = [static_page(), realistic_page()]
    pages += [p.read_bytes() for p in sorted((ROOT / "cookiegate" / "demo" / "templates").glob("*.html"))]
    pages += [p.read_bytes() for p in sorted((ROOT / "tests" / "fixtures").rglob("*.htm*"))]
    assert len(pages) > 5
    for page in pages:
        for start in range(len(page) + 1):
            assert SKIPPER.skip(page, start, None) == _python_stop(page, start), (start, page[start : start + 40])


@native
@settings(max_examples=1500, deadline=None)
@given(doc=_documents, start=st.integers(0, 60), data=st.data())
def test_the_c_scan_consumes_exactly_the_known_plain_tags_the_python_scan_consumes(
    doc: bytes, start: int, data: st.DataObject
) -> None:
    # Known tags drawn from the document's own "<letter ... >" spans, so that some of them are hit.
    spans = [doc[i : doc.find(b">", i) + 1] for i in range(len(doc) - 1)
             if doc[i] == 0x3C and rewrite._is_alpha(doc[i + 1]) and doc.find(b">", i) > 0]
    plain = set(data.draw(st.lists(st.sampled_from(spans), max_size=6))) if spans else set()
    plain.add(b"<b>")
    start = min(start, len(doc))
    assert SKIPPER.skip(doc, start, plain) == rewrite._skip_python(doc, start, plain)


@native
def test_known_plain_tags_carry_the_scan_over_tags_the_pattern_stops_at() -> None:
    doc = b'<p>a <img src="/x.png"> b <img src="/y.png"> <script src=/z.js></script>'
    first = doc.index(b"<img")
    assert SKIPPER.skip(doc, 0, None) == first
    known = {b'<img src="/x.png">'}
    assert SKIPPER.skip(doc, 0, known) == doc.index(b'<img src="/y.png">')
    known.add(b'<img src="/y.png">')
    assert SKIPPER.skip(doc, 0, known) == doc.index(b"<script")
    assert rewrite._skip_python(doc, 0, known) == doc.index(b"<script")


@native
@settings(max_examples=1500, deadline=None)
@given(doc=st.lists(st.sampled_from([b"data", b"DATA", b"-", b"c", b"cookiegate", b"COOKIEGATE", b"category",
                                     b"Category", b"categor", b"cookiegat", b"data-c", b"x", b" ", b"\xff"]),
                    max_size=12).map(b"".join))
def test_the_c_explicit_markup_search_answers_as_the_python_one(doc: bytes) -> None:
    assert _scan.has_explicit_markup(doc) is rewrite._has_explicit_markup_python(doc)


@native
def test_the_c_scan_clamps_its_start_and_refuses_what_it_cannot_read() -> None:
    doc = b"text <b>bold</b>"
    assert SKIPPER.skip(doc, -5, None) == len(doc) == _python_stop(doc, 0)
    assert SKIPPER.skip(doc, 999, None) == len(doc)
    with pytest.raises(TypeError):
        SKIPPER.skip(bytearray(doc), 0, None)
    with pytest.raises(TypeError):
        SKIPPER.skip(doc, 0, [b"<b>"])
    with pytest.raises(TypeError):
        SKIPPER.skip(doc, 0)
    with pytest.raises(TypeError):
        _scan.has_explicit_markup("data-category")
    with pytest.raises(ValueError):
        _scan.Skipper((b"x" * 40,), (), ())
    with pytest.raises(ValueError):
        _scan.Skipper((b"",), (), ())
    with pytest.raises(TypeError):
        _scan.Skipper(("script",), (), ())


def test_the_c_scan_is_built_wherever_a_c_compiler_and_python_headers_are(monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite must exercise the accelerator where it can be built (this machine, CI), not silently fall
    # back to the pure-Python scan everywhere.
    compiler = str(sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if shutil.which(compiler) is None or not headers.exists():
        pytest.skip("no C compiler or Python headers here: the pure-Python scan is the only one")
    monkeypatch.delenv("COOKIEGATE_PURE_PYTHON", raising=False)
    assert rewrite._load_native() is not None, "pip install -e . did not build cookiegate/_scan.c"


def test_a_stale_or_switched_off_accelerator_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    stale = types.ModuleType("cookiegate._scan")
    stale.API = rewrite._SCAN_API + 1  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cookiegate._scan", stale)
    monkeypatch.delenv("COOKIEGATE_PURE_PYTHON", raising=False)
    assert rewrite._load_native() is None
    stale.API = rewrite._SCAN_API  # type: ignore[attr-defined]
    assert rewrite._load_native() is stale
    monkeypatch.setenv("COOKIEGATE_PURE_PYTHON", "1")
    assert rewrite._load_native() is None


def test_without_the_accelerator_the_python_scan_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "cookiegate._scan", None)  # an import of it now fails
    monkeypatch.delenv("COOKIEGATE_PURE_PYTHON", raising=False)
    assert rewrite._load_native() is None
