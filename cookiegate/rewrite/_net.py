"""The safety net: every tag-shaped substring the rewriter does not treat as a real tag (inside comments, raw
text, script text, CDATA, bogus comments and the attributes of real tags) is parsed as a tag too and made
inert in place when it would fetch from a refused vendor, so the rewriter hides at least what a browser hides
even where the two disagree (foreign content, ``<select>``, scripting disabled, hostile markup).

Its edits only rename attributes and insert attributes with unquoted values: they never add or remove ``<``,
``>`` or quotes, so they cannot change how the browser or the rewriter splits the rest of the document.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._edits import Edit, apply, merge
from ._foreign import data_state_end, data_state_text
from ._judge import Judge, Verdict
from ._neutralize import neutralize_edits
from ._regions import SCRIPT, Region, script_end
from ._settings import Limits
from ._tokenizer import CANDIDATE, RAW_END_RES, parse_tag


@dataclass(slots=True)
class NetPass:
    """One pass: the buffer with its edits applied, the edits, and how far the pass read or edited."""

    buf: bytes
    edits: list[Edit]
    reach: int


def safety_net(buf: bytes, start: int, stop: int, final: bool, judge: Judge, limits: Limits) -> NetPass | None:
    """Neutralize every refused tag-shaped substring that begins in ``buf[start:stop]``.

    None when a candidate runs past the bytes received so far (wait for more). Edits may fall after ``stop``.
    """
    n = len(buf)
    cap = limits.candidate_limit
    edits: list[Edit] = []
    blocked: list[Verdict] = []
    reach = stop
    for m in CANDIDATE.finditer(buf, start, stop):
        p = m.start()
        limit = min(n, p + cap)
        tag = parse_tag(buf, p, limit)
        if tag.end < 0 and not final and limit == n and n < p + cap:
            return None
        reach = max(reach, tag.end if tag.end >= 0 else limit)
        name = tag.name
        if name != b"script" and name != b"style" and not tag.interesting():
            continue
        first = tag.first_values()
        inline: bytes | None = None
        texts: tuple[bytes, bytes] | None = None
        if name == b"style" or (name == b"script" and b"src" not in first):
            # Its text read both ways: what hides this tag from the rewriter may not hide it from the browser,
            # whose tokenizer may be in foreign content here.
            text_start = tag.end if tag.end >= 0 else limit
            text_limit = min(n, text_start + cap)
            read = _text_both_ways(buf[text_start:text_limit], name, final or text_limit < n or n >= text_start + cap)
            if read is None:
                return None
            texts, text_end = read
            reach = max(reach, text_start + text_end)
            if name == b"script":
                inline = texts[0] if texts[1] == texts[0] else texts[0] + b"\n" + texts[1]
        verdict = judge.classify(name, first, inline)
        if name == b"style" and (verdict is None or judge.fires(verdict.vendor, verdict.category)) and texts:
            verdict = judge.css_verdict(texts)
        if verdict is None or judge.fires(verdict.vendor, verdict.category):
            continue
        # Insert only after an ordinary element name: a name like "b<" or "x--" would let the inserted text
        # split a "</style" or "-->" that ends the region for the browser.
        edits.extend(e for e in neutralize_edits(buf, tag, first, verdict, insert=name.isalnum())
                     if buf[max(0, e[0] - 2) : e[0]] != b"</")
        blocked.append(verdict)
    for verdict in blocked:
        judge.record(verdict, False)
    reach = max([reach, *(e[1] for e in edits)])
    if not edits:
        return NetPass(buf, edits, reach)
    kept = merge(edits)
    return NetPass(apply(buf, kept, 0), kept, reach)


def _text_both_ways(segment: bytes, name: bytes, complete: bool) -> tuple[tuple[bytes, bytes], int] | None:
    """The text of a script or style starting ``segment``, read as raw (script) text and as data-state text,
    and where the later reading ends; None: it may go on past the bytes received so far."""
    if name == b"script":
        raw = script_end(segment, Region(SCRIPT, 0), 0, len(segment))[0]
    else:
        raw = RAW_END_RES[b"style"].search(segment)
    data = data_state_end(segment, name, 0, len(segment), complete)
    if (raw is None or isinstance(data, int)) and not complete:
        return None
    raw_end = raw.start() if raw is not None else len(segment)
    data_end = data[0] if not isinstance(data, int) else len(segment)
    ends = [raw.end() if raw is not None else len(segment), data[1] if not isinstance(data, int) else len(segment)]
    return (segment[:raw_end], data_state_text(segment, 0, data_end)), max(ends)
