"""The per-request C code (``MiddlewareBase``, ``Entry``, ``PassGate``, ``VisitBase`` and ``MemoKey`` in
``cookiegate/_scan.c``) against the Python code it stands for: for any response, what reaches the server is
what ``ResponseGate`` alone sends, the Python gate is made exactly when the start shows work (HTML or a
Set-Cookie), the middleware answers the same with and without the accelerator (its call hands the server the
app's own awaitable, and servers still see an ASGI 3 app), and the decision memo's key is the same bytes."""

from __future__ import annotations

import copy
import gc
import sys
import weakref
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cookiegate import gateway as gateway_module
from cookiegate import middleware, response
from cookiegate.gateway import Gateway, Visit
from cookiegate.middleware import CookieGateMiddleware
from cookiegate.response import ResponseGate, has_header

from .helpers import IP, PAGE, make_config

native = pytest.mark.skipif(response.PassGate is None, reason="the C accelerator is not built here")

Message = dict[str, Any]


def run(awaitable: Awaitable[None]) -> None:
    """Drive an awaitable that never waits on I/O (the gate and the recording send below) to its end."""
    it = awaitable.__await__()
    try:
        it.send(None)
    except StopIteration:
        return
    raise AssertionError("the gate suspended where nothing could make it wait")


class Recorder:
    """The server's ``send``: keeps a deep copy of every message as it arrived."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.sent.append(copy.deepcopy(message) if isinstance(message, dict) else message)


class WatchedGate(ResponseGate):
    """``ResponseGate`` noting whether the start message took the gated path."""

    gated = False
    seen: tuple[bool, bool] | None = None

    async def _gate_start(self, message: Any, is_html: bool, has_cookie: bool) -> None:
        self.gated = True
        self.seen = (is_html, has_cookie)
        await super()._gate_start(message, is_html, has_cookie)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Gateway:
    return Gateway(make_config(tmp_path_factory.mktemp("gate")))


def scope_for(headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/p",
        "raw_path": b"/p",
        "query_string": b"",
        "headers": headers if headers is not None else [(b"host", b"testserver")],
        "client": (IP["FR"], 51000),
    }


def through(gate_for: Callable[[Recorder, dict[str, Any]], Any], messages: list[Message]) -> list[Message]:
    recorder = Recorder()
    gate = gate_for(recorder, scope_for())
    for message in copy.deepcopy(messages):
        run(gate(message))
    return recorder.sent


# Header names and values near and on what the gate looks for, in the shapes frameworks send.
_NAMES = [b"content-type", b"Content-Type", b"CONTENT-TYPE", b"content-typf", b"content-typ", b"set-cookie",
          b"Set-Cookie", b"set-cookiE", b"set-cookie2", b"set-cookiz", b"content-length", b"vary", b"x-thing",
          b"cache-control", b"etag", b"content-encoding"]
_VALUES = [b"text/html", b"TEXT/HTML; charset=utf-8", b"text/htm", b"text/html5", b"application/json",
           b"text/plain", b"", b"_ga=GA1.1.1.1", b"prefs=dark", b"gzip", b"12", b"text/htmx", b"tExT/hTmL",
           # documents a browser renders though they are not text/html, and their near misses
           b" \ttext/html", b"application/xhtml+xml", b"image/SVG+XML; charset=utf-8", b"text/xml", b"  ",
           b"application/xml ;x", b"unknown/unknown", b"*/*", b"application/xmlx", b"application/json+xmlz",
           b"+xml", b"xml"]
_pair = st.tuples(st.sampled_from(_NAMES), st.sampled_from(_VALUES))
# Shapes ASGI allows but the C side does not read itself (it hands them to the Python gate).
_odd_pair = st.one_of(
    _pair.map(list),
    _pair.map(lambda p: (bytearray(p[0]), p[1])),
    _pair.map(lambda p: (p[0], bytearray(p[1]))),
)
_headers = st.lists(st.one_of(_pair, _pair, _pair, _odd_pair), max_size=8)
_bodies = st.lists(st.sampled_from([PAGE.encode(), b"", b"<p>x</p>", b'{"ok": true}', PAGE.encode()[:77]]),
                   min_size=1, max_size=3)


def _response(headers: list[Any], status: int, as_tuple: bool, bodies: list[bytes]) -> list[Message]:
    start: Message = {"type": "http.response.start", "status": status,
                      "headers": tuple(headers) if as_tuple else headers}
    parts: list[Message] = [{"type": "http.response.body", "body": b, "more_body": True} for b in bodies[:-1]]
    parts.append({"type": "http.response.body", "body": bodies[-1], "more_body": False})
    return [start, *parts]


def _canonical(headers: list[Any]) -> bool:
    return all(type(p) is tuple and type(p[0]) is bytes and type(p[1]) is bytes for p in headers)


@native
@settings(max_examples=600, deadline=None)
@given(headers=_headers, status=st.sampled_from([200, 200, 404, 204, 302]), as_tuple=st.booleans(),
       bodies=_bodies)
# The last Content-Type counts (as in the Python gate), and a Set-Cookie anywhere.
@example(headers=[(b"content-type", b"application/json"), (b"Content-Type", b"text/html")], status=200,
         as_tuple=False, bodies=[PAGE.encode()])
@example(headers=[(b"content-type", b"text/html"), (b"content-type", b"text/plain")], status=200,
         as_tuple=True, bodies=[PAGE.encode()])
@example(headers=[(b"content-type", b"text/css"), (b"content-type", b"text/css"), (b"x-thing", b""),
                  (b"SET-COOKIE", b"_ga=GA1.1.1.1")], status=200, as_tuple=False, bodies=[b"body{}"])
@example(headers=[(bytearray(b"content-type"), b"text/html")], status=200, as_tuple=False, bodies=[PAGE.encode()])
def test_the_c_pass_through_sends_what_the_python_gate_sends_and_gates_the_same_responses(
    gateway: Gateway, headers: list[Any], status: int, as_tuple: bool, bodies: list[bytes]
) -> None:
    messages = _response(headers, status, as_tuple, bodies)
    python_gates: list[WatchedGate] = []
    native_gates: list[Any] = []

    def python_gate(send: Recorder, scope: dict[str, Any]) -> WatchedGate:
        python_gates.append(WatchedGate(gateway, Visit(gateway, scope), send, scope))
        return python_gates[-1]

    def native_gate(send: Recorder, scope: dict[str, Any]) -> Any:
        native_gates.append(response.PassGate(WatchedGate, gateway, Visit(gateway, scope), send, scope))
        return native_gates[-1]

    assert through(native_gate, messages) == through(python_gate, messages)
    (expected,), (gate,) = python_gates, native_gates
    made = gate.slow
    if expected.gated:
        # ... and with what the Python gate read from the headers (the C side hands it over).
        assert made is not None and made.gated and made.seen == expected.seen
    elif _canonical(headers):
        # The common response never makes a Python object per request.
        assert made is None and gate.passing
    else:
        assert made is None or not made.gated


@native
def test_messages_before_the_start_and_after_a_pass_go_straight_to_send(gateway: Gateway) -> None:
    recorder = Recorder()
    scope = scope_for()
    gate = response.PassGate(ResponseGate, gateway, Visit(gateway, scope), recorder, scope)
    early = {"type": "http.response.trailers", "headers": [], "more_trailers": False}
    run(gate(early))
    assert gate.slow is None and not gate.passing
    run(gate({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"image/png")]}))
    run(gate({"type": "http.response.body", "body": b"<script src=https://x>", "more_body": False}))
    assert gate.passing and gate.slow is None
    assert recorder.sent[0] == early and recorder.sent[2]["body"] == b"<script src=https://x>"


@native
def test_a_mapping_that_is_not_a_dict_is_read_by_the_python_gate(gateway: Gateway) -> None:
    from types import MappingProxyType

    recorder = Recorder()
    scope = scope_for()
    gate = response.PassGate(ResponseGate, gateway, Visit(gateway, scope), recorder, scope)
    run(gate(MappingProxyType({"type": "http.response.start", "status": 200, "headers": []})))
    assert isinstance(gate.slow, ResponseGate) and len(recorder.sent) == 1


@native
def test_the_pass_through_refuses_what_send_does_not_take(gateway: Gateway) -> None:
    scope = scope_for()
    gate = response.PassGate(ResponseGate, gateway, Visit(gateway, scope), Recorder(), scope)
    with pytest.raises(TypeError):
        gate()
    with pytest.raises(TypeError):
        gate({}, {})
    with pytest.raises(TypeError):
        gate(message={})
    with pytest.raises(TypeError):
        response.PassGate(ResponseGate, gateway)
    with pytest.raises(TypeError):
        response.PassGate(ResponseGate, gateway, None, None, scope, extra=1)


@native
def test_an_error_from_send_or_from_making_the_python_gate_reaches_the_app(gateway: Gateway) -> None:
    class Broken(Exception):
        pass

    async def failing_send(message: Message) -> None:
        raise Broken

    scope = scope_for()
    gate = response.PassGate(ResponseGate, gateway, Visit(gateway, scope), failing_send, scope)
    with pytest.raises(Broken):
        run(gate({"type": "http.response.start", "status": 200, "headers": []}))

    def no_gate(*args: Any) -> Any:
        raise Broken

    gate = response.PassGate(no_gate, gateway, Visit(gateway, scope), Recorder(), scope)
    with pytest.raises(Broken):
        run(gate({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}))
    assert gate.slow is None


@native
def test_the_pass_through_keeps_no_reference_it_does_not_own(gateway: Gateway) -> None:
    scope = scope_for()
    send = Recorder()
    visit = Visit(gateway, scope)
    message = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/css")]}
    before = [sys.getrefcount(x) for x in (send, visit, scope, message, message["headers"])]
    for _ in range(1000):
        gate = response.PassGate(ResponseGate, gateway, visit, send, scope)
        run(gate(message))
        run(gate({"type": "http.response.body", "body": b"x"}))
        del gate
    send.sent.clear()
    assert [sys.getrefcount(x) for x in (send, visit, scope, message, message["headers"])] == before


@native
def test_a_reference_cycle_through_the_pass_through_is_collected(gateway: Gateway) -> None:
    class Send:
        gate: Any = None

        async def __call__(self, message: Message) -> None:
            pass

    send = Send()
    scope = scope_for()
    send.gate = response.PassGate(ResponseGate, gateway, Visit(gateway, scope), send, scope)
    ref = weakref.ref(send)
    del send
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize(
    ("headers", "found"),
    [
        ([(b"host", b"x"), (b"cookiegate-preview", b"t")], True),
        (((b"cookiegate-preview", b""),), True),
        ([[b"cookiegate-preview", b"t"]], True),  # a list pair, as some servers give
        ([(b"Cookiegate-Preview", b"t")], False),  # ASGI names are lower-case: only the exact name counts
        ([(b"cookiegate-preview2", b"t"), (b"cookie", b"a")], False),
        ([], False),
    ],
)
def test_has_header_finds_exactly_that_name(headers: Any, found: bool) -> None:
    assert has_header(headers, b"cookiegate-preview") is found


# --- the middleware with and without the accelerator ------------------------------------------------------


def _scripted_app(messages: list[Message]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        for message in copy.deepcopy(messages):
            await send(message)

    return app


_SCENARIOS = {
    "json": _response([(b"content-type", b"application/json"), (b"content-length", b"11")], 200, False,
                      [b'{"ok": true}']),
    "page": _response([(b"content-type", b"text/html; charset=utf-8")], 200, False, [PAGE.encode()]),
    "django-style page": _response([(b"Content-Type", b"text/html"), (b"Set-Cookie", b"_ga=GA1.1.1.1; Path=/")],
                                   200, True, [PAGE.encode()[:90], PAGE.encode()[90:]]),
    "json setting cookies": _response([(b"content-type", b"application/json"), (b"set-cookie", b"_fbp=fb.1"),
                                       (b"set-cookie", b"prefs=dark")], 200, False, [b"{}"]),
    "css": _response([(b"content-type", b"text/css")], 200, False, [b"body{}"]),
}


_MODES = ("entry and pass-through in C", "pass-through in C", "pure Python")


@pytest.fixture
def gate_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    def use(mode: str) -> None:
        native_gate = mode != "pure Python"
        monkeypatch.setattr(middleware, "Entry", response._native.Entry if mode == _MODES[0] else None)
        monkeypatch.setattr(middleware, "PassGate", response.PassGate if native_gate else None)

    yield use


@native
@pytest.mark.parametrize("name", sorted(_SCENARIOS))
@pytest.mark.parametrize("visitor", ["FR", "US-CA"])
def test_the_middleware_answers_the_same_with_and_without_the_accelerator(
    tmp_path: Path, gate_mode: Callable[[str], None], name: str, visitor: str
) -> None:
    outputs = []
    for mode in _MODES:
        gate_mode(mode)
        gated = CookieGateMiddleware(_scripted_app(_SCENARIOS[name]), config=make_config(tmp_path))
        assert (gated._entry is not None) is (mode == _MODES[0])
        recorder = Recorder()
        scope = scope_for()
        scope["client"] = (IP[visitor], 51000)

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        run(gated(scope, receive, recorder))
        outputs.append(recorder.sent)
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(outputs[0]) >= 2


# --- the middleware's per-request step --------------------------------------------------------------------


def _entry(gateway: Gateway) -> Any:
    return response._native.Entry(Visit, ResponseGate, gateway, "/cookiegate/", "/cookiegate",
                                  middleware.GPC_PATH, b"cookiegate-preview")


@native
@pytest.mark.parametrize("headers", [None, [], [(b"host", b"x"), (b"cookie", b"a=b")], ((b"x-forwarded-for", b"1"),)])
@pytest.mark.parametrize("client", [("85.0.1.10", 5), None, "absent"])
def test_the_c_entry_makes_the_visit_the_python_constructor_makes(
    gateway: Gateway, headers: Any, client: Any
) -> None:
    scope: dict[str, Any] = {"type": "http", "path": "/pricing"}
    if headers is not None:
        scope["headers"] = headers
    if client != "absent":
        scope["client"] = client
    send = Recorder()
    gate = _entry(gateway)(scope, send)
    visit = scope["cookiegate"]
    assert type(gate) is response.PassGate and gate.visit is visit and gate.send is send
    made = Visit(gateway, dict(scope))
    assert type(visit) is Visit and _state(visit) == _state(made)
    assert visit.gateway is gateway and visit._headers is scope.get("headers", made._headers)


def _state(visit: Any) -> tuple[Any, ...]:
    # Everything a visit holds: its three fields (C members where the module is built) and its __dict__.
    return visit.gateway, visit._peer, visit._headers, vars(visit)


@native
def test_a_visit_holds_nothing_else_until_a_fact_is_asked_for(gateway: Gateway) -> None:
    scope: dict[str, Any] = {"type": "http", "path": "/x", "headers": [(b"x-forwarded-for", b"85.0.1.10")],
                             "client": ("127.0.0.1", 5)}
    entry = _entry(gateway)
    assert entry.direct and issubclass(Visit, response._native.VisitBase)
    entry(scope, Recorder())
    visit = scope["cookiegate"]
    assert vars(visit) == {} and visit._location is None  # the class default, no per-visit storage
    assert visit.client_ip == "127.0.0.1"  # the peer is no trusted proxy here: the header is not believed
    assert vars(visit)["_ip"] == "127.0.0.1"  # remembered in the dict made for it


@native
def test_a_visit_class_that_puts_something_else_under_a_field_name_is_made_through_setattr(gateway: Gateway) -> None:
    class Recording(Visit):
        seen: list[Any] = []

        @property
        def gateway(self) -> Any:  # type: ignore[override]
            return self.__dict__["_gw"]

        @gateway.setter
        def gateway(self, value: Any) -> None:
            self.seen.append(value)
            self.__dict__["_gw"] = value

    entry = response._native.Entry(Recording, ResponseGate, gateway, "/cookiegate/", "/cookiegate",
                                   middleware.GPC_PATH, b"cookiegate-preview")
    assert not entry.direct
    scope: dict[str, Any] = {"type": "http", "path": "/x", "headers": [], "client": None}
    entry(scope, Recorder())
    visit = scope["cookiegate"]
    assert type(visit) is Recording and Recording.seen == [gateway] and visit.gateway is gateway
    assert _state(visit) == _state(Recording(gateway, dict(scope)))


@native
def test_visits_in_reference_cycles_are_still_collected(gateway: Gateway) -> None:
    for close_cycle in (lambda v: setattr(v, "me", v), lambda v: v._headers.append(v)):
        scope: dict[str, Any] = {"type": "http", "path": "/x", "headers": [], "client": None}
        _entry(gateway)(scope, Recorder())
        visit = scope.pop("cookiegate")
        close_cycle(visit)
        ref = weakref.ref(visit)
        del visit, scope
        gc.collect()
        assert ref() is None


@native
@pytest.mark.parametrize(
    "scope",
    [
        {"path": "/cookiegate/consent"},
        {"path": "/cookiegate"},
        {"path": "/.well-known/gpc.json"},
        {"path": "/x", "headers": [(b"host", b"x"), (b"cookiegate-preview", b"token")]},
        {"path": "/x", "headers": [[b"host", b"x"]]},
        {"path": "/x", "headers": [(bytearray(b"host"), b"x")]},
        {"path": "/x", "headers": iter([(b"host", b"x")])},
        {"path": b"/x"},
        {},
    ],
    ids=["own route", "own prefix", "gpc.json", "preview", "list pair", "bytearray name", "iterator", "bytes path",
         "no path"],
)
def test_the_c_entry_leaves_to_python_what_python_must_take(gateway: Gateway, scope: dict[str, Any]) -> None:
    before = dict(scope)
    assert _entry(gateway)(scope, Recorder()) is None
    assert scope == before  # nothing made, nothing stored


_PATHS = ["/cookiegate/", "/cookiegate/consent", "/cookiegate", "/.well-known/gpc.json", "/cookiegate/é",
          "/cookiegat", "/cookiegatex", "/Cookiegate/", "/.well-known/gpc.jsonx", "/.well-known/gpc.jso", "/", "",
          "/é", "/cookiegate\udcff", "/x" * 40, "/cookiegate/" + "x" * 100]


@native
@pytest.mark.parametrize("path", _PATHS)
@pytest.mark.parametrize(
    "own", [("/cookiegate/", "/cookiegate", middleware.GPC_PATH), ("/ß/", "/ß", middleware.GPC_PATH),
            ("/" + "p" * 70 + "/", "/" + "p" * 70, middleware.GPC_PATH)],
    ids=["ascii (compared inline)", "non-ascii prefix (compared as str)", "long prefix (compared as str)"],
)
def test_the_c_entry_takes_exactly_the_paths_the_python_branch_does_not(
    gateway: Gateway, path: str, own: tuple[str, str, str]
) -> None:
    prefix, prefix_bare, own_path = own
    entry = response._native.Entry(Visit, ResponseGate, gateway, prefix, prefix_bare, own_path, b"cookiegate-preview")
    python_takes = path.startswith(prefix) or path == prefix_bare or path == own_path
    scope: dict[str, Any] = {"type": "http", "path": path, "headers": [], "client": None}
    assert (entry(scope, Recorder()) is None) is python_takes
    for other in (prefix, prefix_bare, own_path, prefix + "x", prefix_bare + "é"):
        taken = other.startswith(prefix) or other == prefix_bare or other == own_path
        assert (entry({"type": "http", "path": other, "headers": []}, Recorder()) is None) is taken


# --- the middleware's call --------------------------------------------------------------------------------


class _Awaitable:
    """What an app's call returns, recognisable: the C call must hand this very object to the server."""

    def __await__(self) -> Iterator[None]:
        return iter(())


def _recording_app(calls: list[tuple[Any, ...]]) -> Any:
    def app(scope: Any, receive: Any, send: Any) -> _Awaitable:
        calls.append((scope, receive, send))
        return _Awaitable()

    return app


@native
def test_the_middleware_call_hands_the_server_the_apps_own_awaitable_for_a_common_request(tmp_path: Path) -> None:
    calls: list[tuple[Any, ...]] = []
    gated = CookieGateMiddleware(_recording_app(calls), config=make_config(tmp_path))
    scope = scope_for()
    receive, send = object(), Recorder()
    result = gated(scope, receive, send)
    assert type(result) is _Awaitable  # no coroutine of the gateway's own around the app's
    [(seen_scope, seen_receive, seen_send)] = calls
    assert seen_scope is scope and seen_receive is receive
    assert type(seen_send) is response.PassGate and seen_send.send is send and seen_send.visit is scope["cookiegate"]


@native
@pytest.mark.parametrize(
    "scope",
    [
        {"type": "http", "path": "/cookiegate/consent", "method": "GET", "headers": [], "query_string": b""},
        {"type": "http", "path": "/x", "headers": [(b"cookiegate-preview", b"t")], "client": None},
        {"type": "websocket", "path": "/ws", "headers": []},
        {"type": "lifespan"},
        {"type": "htt", "path": "/x"},
    ],
    ids=["own route", "preview", "websocket", "lifespan", "unknown type"],
)
def test_the_middleware_call_leaves_everything_else_to_its_python_coroutine(
    tmp_path: Path, scope: dict[str, Any]
) -> None:
    import inspect

    calls: list[tuple[Any, ...]] = []
    gated = CookieGateMiddleware(_recording_app(calls), config=make_config(tmp_path))
    result = gated(scope, object(), Recorder())
    assert inspect.iscoroutine(result) and result.cr_code is CookieGateMiddleware._call.__code__
    result.close()
    assert calls == []  # nothing ran yet: the coroutine runs when the server awaits it


@native
def test_the_middleware_call_with_keywords_or_a_missing_type_behaves_as_the_python_call(tmp_path: Path) -> None:
    import inspect

    calls: list[tuple[Any, ...]] = []
    gated = CookieGateMiddleware(_recording_app(calls), config=make_config(tmp_path))
    result = gated(scope=scope_for(), receive=object(), send=Recorder())
    assert inspect.iscoroutine(result)
    result.close()
    with pytest.raises(KeyError):
        run(gated({"path": "/x"}, object(), Recorder()))
    with pytest.raises(TypeError):
        gated(scope_for(), object())


@native
def test_servers_see_an_asgi3_app_while_calls_take_the_c_path(tmp_path: Path) -> None:
    import asyncio
    import inspect

    from asgiref.compatibility import guarantee_single_callable
    from uvicorn.config import Config as UvicornConfig

    gated = CookieGateMiddleware(_recording_app([]), config=make_config(tmp_path))
    assert asyncio.iscoroutinefunction(gated.__call__) and inspect.iscoroutinefunction(gated.__call__)
    assert type(gated).__call__ is response._native.MiddlewareBase.__call__
    assert guarantee_single_callable(gated) is gated  # asgiref (Daphne, Django channels): ASGI 3
    config = UvicornConfig(app=gated, lifespan="off")
    config.load()
    assert config.asgi_version == "3.0"


@native
def test_a_subclass_may_wrap_the_call_and_the_middleware_is_still_collected(tmp_path: Path) -> None:
    seen: list[str] = []

    class Logged(CookieGateMiddleware):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            seen.append(scope["path"])
            await super().__call__(scope, receive, send)

    calls: list[tuple[Any, ...]] = []
    gated = Logged(_recording_app(calls), config=make_config(tmp_path))
    run(gated(scope_for(), object(), Recorder()))
    assert seen == ["/p"] and len(calls) == 1
    ref = weakref.ref(gated)
    del gated
    gc.collect()
    assert ref() is None


def test_without_the_accelerator_the_middleware_call_is_its_python_coroutine(tmp_path: Path) -> None:
    import os
    import subprocess
    import textwrap

    code = textwrap.dedent(
        """
        import asyncio, inspect
        from pathlib import Path
        from cookiegate import middleware
        from cookiegate.middleware import CookieGateMiddleware
        from tests.helpers import make_config
        assert middleware._native is None and CookieGateMiddleware.__mro__[1] is object
        assert CookieGateMiddleware.__call__ is CookieGateMiddleware._call
        assert inspect.iscoroutinefunction(CookieGateMiddleware.__call__)
        sent = []
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/css")]})
            await send({"type": "http.response.body", "body": b"b{}"})
        async def send(message):
            sent.append(message)
        async def receive():
            return {"type": "http.request", "body": b""}
        gated = CookieGateMiddleware(app, config=make_config(Path(%r)))
        scope = {"type": "http", "method": "GET", "path": "/p", "headers": [], "client": ("85.0.1.10", 5)}
        asyncio.run(gated(scope, receive, send))
        assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"], sent
        assert type(scope["cookiegate"]).__mro__[1] is object
        """
    ) % str(tmp_path)
    env = dict(os.environ, COOKIEGATE_PURE_PYTHON="1")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@native
def test_a_mapping_scope_is_left_to_python_and_bad_arguments_are_refused(gateway: Gateway) -> None:
    from collections import UserDict

    assert _entry(gateway)(UserDict({"path": "/x"}), Recorder()) is None
    with pytest.raises(TypeError):
        _entry(gateway)({"path": "/x"})
    with pytest.raises(TypeError):
        response._native.Entry(Visit, ResponseGate, gateway, b"/cookiegate/", "/cookiegate", "/", b"x")


@native
def test_the_c_entry_keeps_no_reference_it_does_not_own(gateway: Gateway) -> None:
    entry = _entry(gateway)
    send = Recorder()
    headers = [(b"host", b"x")]
    client = ("85.0.1.10", 5)
    scope = {"type": "http", "path": "/x", "headers": headers, "client": client}
    before = [sys.getrefcount(x) for x in (send, headers, client, scope, gateway)]
    for _ in range(1000):
        gate = entry(scope, send)
        run(gate({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/css")]}))
        del gate
        del scope["cookiegate"]
    send.sent.clear()
    assert [sys.getrefcount(x) for x in (send, headers, client, scope, gateway)] == before


# --- the decision memo's key material ---------------------------------------------------------------------

_MEMO_NAMES = [b"x-forwarded-for", b"X-Forwarded-For", b"forwarded", b"FORWARDED", b"cookie", b"Cookie",
               b"sec-gpc", b"Sec-GPC", b"user-agent", b"User-Agent", b"accept-language", b"Accept-Language",
               b"accept", b"x-forwarded-fox", b"forwardee", b"cookies", b"sec-gp", b"host", b"user_agent", b""]
_memo_values = st.one_of(st.binary(max_size=30), st.sampled_from([b"", b"1", b"85.0.1.10, 10.0.0.1", b"a\nb c",
                                                                  b"9" * 12, b"x" * 1000]))
_memo_headers = st.lists(st.tuples(st.sampled_from(_MEMO_NAMES), _memo_values), max_size=12)
_peers = st.one_of(st.sampled_from([b"127.0.0.1", b"::1", b"", b"85.0.1.10"]), st.binary(max_size=40))


@native
@settings(max_examples=1500, deadline=None)
@given(peer=_peers, headers=_memo_headers, as_tuple=st.booleans())
@example(peer=b"1", headers=[], as_tuple=False)
@example(peer=b"127.0.0.1", headers=[(b"sec-gpc", b""), (b"X-Forwarded-For", b"1.2.3.4"), (b"cookie", b"a=b"),
                                     (b"forwarded", b"for=1.2.3.4")], as_tuple=True)
def test_the_c_memo_key_is_made_of_the_same_bytes_as_the_python_one(
    peer: bytes, headers: list[tuple[bytes, bytes]], as_tuple: bool
) -> None:
    seq = tuple(headers) if as_tuple else headers
    assert gateway_module._memo_key.materials(peer, seq) == gateway_module.memo_materials(peer, seq)


@native
def test_the_c_memo_key_leaves_odd_shaped_headers_to_the_python_one(gateway: Gateway) -> None:
    memo = gateway_module._memo_key
    assert memo.materials(b"1", [[b"cookie", b"a"]]) is None
    assert memo.materials(b"1", [(bytearray(b"cookie"), b"a")]) is None
    assert memo.materials(b"1", [(b"cookie", b"a", b"b")]) is None
    assert memo.materials(b"1", iter([(b"cookie", b"a")])) is None
    # and the visit then reads them itself, to the same key as the ordinary shape gives
    odd = Visit(gateway, {"client": ("85.0.1.10", 1), "headers": [[b"cookie", b"a"], (b"sec-gpc", bytearray(b"1"))]})
    plain = Visit(gateway, {"client": ("85.0.1.10", 1), "headers": [(b"cookie", b"a"), (b"sec-gpc", b"1")]})
    assert odd._materials() == plain._materials() is not None
    with pytest.raises(TypeError):
        memo.materials("85.0.1.10", [])
    with pytest.raises(ValueError):
        gateway_module._native.MemoKey((b"Cookie",), ())
    with pytest.raises(ValueError):
        gateway_module._native.MemoKey((b"x" * 33,), ())
