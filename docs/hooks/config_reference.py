"""MkDocs hook: the configuration reference, generated from ``cookiegate.Config`` so it cannot drift.

Every dataclass field of the public ``cookiegate.Config`` becomes one entry: its TOML key, its type as
TOML spells it, its default, and the ``#:`` comment written above the field in the source. The page
``configuration.md`` holds the marker this hook replaces.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import textwrap
import types
import typing
from collections.abc import Mapping
from typing import Any

MARKER = "<!-- config-reference -->"

def field_comments(cls: type) -> dict[str, str]:
    """The ``#:`` comment lines written directly above each field of ``cls``, joined into one paragraph."""
    source = textwrap.dedent(inspect.getsource(cls))
    lines = source.splitlines()
    tree = ast.parse(source)
    body = next(node for node in tree.body if isinstance(node, ast.ClassDef)).body
    comments: dict[str, str] = {}
    for node in body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        above: list[str] = []
        row = node.lineno - 2  # the line before the field, 0-based
        while row >= 0 and lines[row].strip().startswith("#:"):
            above.insert(0, lines[row].strip()[2:].strip())
            row -= 1
        if above:
            comments[node.target.id] = " ".join(above)
    return comments


def toml_type(tp: Any) -> str:
    """A type annotation as the TOML file writes the value."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        return "one of " + ", ".join(json.dumps(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        kept = [a for a in args if a is not type(None)]
        text = " or ".join(toml_type(a) for a in kept)
        return text + ", or unset" if len(kept) < len(args) else text
    if origin is tuple:
        return "array of " + _plural(toml_type(args[0]))
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return "table of " + _plural(toml_type(args[1]))
    if tp is str:
        return "string"
    if tp is bool:
        return "boolean"
    if tp is int:
        return "integer"
    if dataclasses.is_dataclass(tp):
        return "table"
    raise TypeError(f"no TOML spelling for {tp!r}: teach docs/hooks/config_reference.py")


def _plural(text: str) -> str:
    first, space, rest = text.partition(" ")
    return first + "s" + space + rest


def toml_value(value: Any) -> str:
    """A default as it would be written in ``cookiegate.toml``."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML spelling for the default {value!r}")


def _markdown(comment: str) -> str:
    # The source comments use reStructuredText literals (``x``); Markdown wants one backtick.
    return comment.replace("``", "`")


def config_reference() -> str:
    """The reference section: one heading per field of ``cookiegate.Config``, in declaration order."""
    import cookiegate  # the public package, not a module path: modules move, the public name stays

    cls = cookiegate.Config
    hints = typing.get_type_hints(cls)
    comments = field_comments(cls)
    out: list[str] = []
    for field in dataclasses.fields(cls):
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            default = dataclasses.MISSING
        out += [f"### `{field.name}`", ""]
        facts = f"*{toml_type(hints[field.name])}*"
        if default is not dataclasses.MISSING:
            facts += f" · default `{toml_value(default)}`"
        out += [facts, ""]
        if field.name in comments:
            out += [_markdown(comments[field.name]), ""]
    return "\n".join(out)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """MkDocs event: put the generated reference where the page has the marker."""
    if MARKER in markdown:
        return markdown.replace(MARKER, config_reference())
    return markdown
