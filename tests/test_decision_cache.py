"""Decisions remembered per returning visitor (``Gateway.decisions``): used again only for the same peer,
forwarding headers, consent cookie, GPC and User-Agent, never past the cookie's expiry or the time to live,
forgotten with a new geo database, and never kept when something was in doubt."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from cookiegate import CookieGateMiddleware, _decisions, _visit
from cookiegate.policy._consent import Choice, new_consent_id
from cookiegate.policy._decision import decide
from cookiegate.policy._jurisdiction import STRICTEST

from .helpers import IP, PAGE, client, make_config
from .test_geo import de_record, fr_record, write_db

pytestmark = pytest.mark.anyio

BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def site() -> Starlette:
    async def home(request: Request) -> Response:
        return HTMLResponse(PAGE)

    return Starlette(routes=[Route("/", home)])


class Made:
    """Counts the decisions actually made (not taken from the cache)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0

        def counting(**kwargs: Any) -> Any:
            self.count += 1
            return decide(**kwargs)

        monkeypatch.setattr(_visit, "decide", counting)


def app_for(tmp_path: Path, **overrides: Any) -> CookieGateMiddleware:
    overrides.setdefault("trusted_proxies", ("10.0.0.0/8",))
    return CookieGateMiddleware(site(), config=make_config(tmp_path, **overrides))


async def state(app: CookieGateMiddleware, peer: str, headers: dict[str, str]) -> dict[str, Any]:
    async with client(app, peer, headers=headers) as c:
        answer: dict[str, Any] = (await c.get("/cookiegate/consent")).json()
        return answer


def cookie_for(app: CookieGateMiddleware, *, allow: bool, issued_at: int | None = None) -> str:
    codec = app.gateway.codec
    choice = Choice(consent_id=new_consent_id(), categories={c: allow for c in ("functional", "analytics", "ads",
                                                                                  "social")},
                    policy_revision=codec.policy_revision, regime_key="FR", regime_kind="opt-in",
                    action="accept_all" if allow else "reject_all", issued_at=issued_at or int(time.time()))
    return f"{app.gateway.config.cookie_name}={codec.encode(choice)}"


async def test_a_returning_visitor_is_decided_once_and_each_change_of_what_decides_is_decided_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_for(tmp_path)
    made = Made(monkeypatch)
    accepted = cookie_for(app, allow=True)
    base = {"x-forwarded-for": IP["US-CA"], "user-agent": BROWSER_UA}
    # Each differs from the one before in one thing a decision reads; each is asked twice.
    visits: list[tuple[str, dict[str, str], dict[str, Any]]] = [
        ("10.0.0.1", base, {"country": "US", "ads": True}),
        ("10.0.0.1", {**base, "sec-gpc": "1"}, {"country": "US", "ads": False}),
        ("10.0.0.1", {**base, "x-forwarded-for": IP["FR"]}, {"country": "FR", "ads": False}),
        ("10.0.0.1", {**base, "x-forwarded-for": IP["FR"], "cookie": accepted}, {"country": "FR", "ads": True}),
        ("10.0.0.1", {**base, "x-forwarded-for": IP["FR"], "cookie": accepted, "user-agent": BOT_UA},
         {"country": "FR", "ads": False}),
        (IP["FR"], {**base, "cookie": accepted}, {"country": "FR", "ads": True}),  # untrusted peer: its own place
        (IP["DE"], {**base, "cookie": accepted}, {"country": "DE", "ads": True}),
    ]
    for i, (peer, headers, expected) in enumerate(visits):
        for _ in range(2):
            got = await state(app, peer, headers)
            assert got["location"]["country"] == expected["country"], (peer, headers)
            assert got["categories"]["ads"] is expected["ads"], (peer, headers)
        assert made.count == i + 1  # the second ask of each came from the cache
    # The very first visitor again: still remembered.
    assert (await state(app, "10.0.0.1", base))["categories"]["ads"] is True
    assert made.count == len(visits)


async def test_a_remembered_choice_is_not_used_past_the_cookies_expiry_nor_past_the_time_to_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_for(tmp_path, consent_max_age_days=1)
    made = Made(monkeypatch)
    now = time.time()
    issued = int(now) - 86400 - 60 + 10  # accepted for 10 more seconds (a minute's allowance included)
    headers = {"cookie": cookie_for(app, allow=True, issued_at=issued)}
    assert (await state(app, IP["FR"], headers))["categories"]["ads"] is True
    assert made.count == 1
    clock = [now + 5]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    assert (await state(app, IP["FR"], headers))["categories"]["ads"] is True
    assert made.count == 1
    clock[0] = now + 15  # past the cookie's expiry, within the time to live
    answer = await state(app, IP["FR"], headers)
    assert answer["categories"]["ads"] is False and answer["needs_banner"] is True
    assert made.count == 2
    # No cookie: remembered for the time to live, then decided again.
    assert (await state(app, IP["JP"], {}))["location"]["country"] == "JP"
    assert (await state(app, IP["JP"], {}))["location"]["country"] == "JP"
    assert made.count == 3
    clock[0] += _decisions.DECISION_TTL + 1
    assert (await state(app, IP["JP"], {}))["location"]["country"] == "JP"
    assert made.count == 4
    # A cookie good for a day: remembered for the time to live only.
    fresh = {"cookie": cookie_for(app, allow=True, issued_at=int(clock[0]))}
    for _ in range(2):
        assert (await state(app, IP["FR"], fresh))["categories"]["ads"] is True
    assert made.count == 5
    clock[0] += _decisions.DECISION_TTL + 1
    assert (await state(app, IP["FR"], fresh))["categories"]["ads"] is True
    assert made.count == 6


async def test_a_new_geo_database_forgets_every_remembered_decision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cookiegate import _geo as geo

    path = write_db(tmp_path / "city.mmdb", {"85.0.1.0/24": fr_record()})
    app = app_for(tmp_path, geoip_database=str(path))
    monkeypatch.setattr(app.gateway.geo, "_check_interval", 0)
    assert (await state(app, "85.0.1.7", {}))["location"]["country"] == "FR"
    write_db(path, {"85.0.1.0/24": de_record()})
    monkeypatch.setattr(geo, "clock", lambda: time.monotonic() + 10)
    assert (await state(app, "85.0.1.7", {}))["location"]["country"] == "DE"


async def test_nothing_in_doubt_is_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = app_for(tmp_path)
    made = Made(monkeypatch)
    forged = f"{app.gateway.config.cookie_name}=eyJmb3JnZWQiOnRydWV9.AAAA.BBBB"
    rejected_before = app.gateway.codec.rejections
    for _ in range(3):
        assert (await state(app, IP["FR"], {"cookie": forged}))["needs_banner"] is True  # a rejected cookie
        assert (await state(app, IP["private"], {}))["location"]["country"] is None  # an unknown place
    assert made.count == 6
    assert app.gateway.codec.rejections == rejected_before + 3  # each time it came, it was looked at

    def broken(*args: Any) -> Any:
        raise RuntimeError("regime table broken")

    monkeypatch.setattr(type(app.gateway.jurisdiction), "regime_for", broken)
    for _ in range(2):
        assert (await state(app, IP["US-CA"], {}))["categories"]["analytics"] is False  # strictest stood in
    monkeypatch.undo()
    made = Made(monkeypatch)
    assert (await state(app, IP["US-CA"], {}))["categories"]["analytics"] is True  # the failure was not kept
    assert made.count == 1


async def test_an_app_that_asks_for_the_place_first_is_answered_from_the_remembered_decision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def place_first(request: Request) -> Response:
        visit = request.scope["cookiegate"]
        return HTMLResponse(f"<p>{visit.location.country} {visit.regime.kind} {sorted(visit.allowed)}</p>")

    app = CookieGateMiddleware(Starlette(routes=[Route("/", place_first)]), config=make_config(tmp_path))
    made = Made(monkeypatch)
    placed: list[bytes] = []
    lookup_via = app.gateway.geo.lookup_via

    def counting(material: bytes, address: Any) -> Any:
        placed.append(material)
        return lookup_via(material, address)

    monkeypatch.setattr(app.gateway.geo, "lookup_via", counting)
    pages = []
    for _ in range(3):
        async with client(app, IP["DE"]) as c:
            pages.append((await c.get("/")).text)
    assert len(set(pages)) == 1 and "DE opt-in ['necessary']" in pages[0]
    assert made.count == 1 and len(placed) == 1  # placed and decided once, then remembered together


async def test_a_failing_decision_cache_decides_afresh_and_serves_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_for(tmp_path)

    def broken(material: bytes) -> Any:
        raise RuntimeError("cache broken")

    monkeypatch.setattr(app.gateway.decisions, "get", broken)
    for _ in range(2):
        got = await state(app, IP["US-CA"], {"sec-gpc": "1"})
        assert got["location"]["country"] == "US" and got["categories"]["ads"] is False
    assert app.gateway.errors.counts["decision-cache"] == 2


async def test_a_returning_visitors_language_is_remembered_and_negotiated_anew_when_what_decides_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_for(tmp_path)
    negotiated: list[str] = []
    negotiate = app.gateway.renderer._negotiate

    def counting(visit: Any) -> str:
        negotiated.append(lang := negotiate(visit))
        return lang

    monkeypatch.setattr(app.gateway.renderer, "_negotiate", counting)

    async def banner_language(peer: str, headers: dict[str, str]) -> str:
        async with client(app, peer, headers={"user-agent": BROWSER_UA, **headers}) as c:
            page = (await c.get("/")).text
        return page.split('id="cookiegate-banner"', 1)[1].split('lang="', 1)[1].split('"', 1)[0]

    # Each changes one thing the language is made of (Accept-Language, the language cookie, the place);
    # each is asked twice, the second time from what was remembered.
    visits = [
        (IP["DE"], {"accept-language": "fr"}, "fr"),
        (IP["DE"], {"accept-language": "it"}, "it"),
        (IP["DE"], {"accept-language": "it", "cookie": "cookiegate_lang=nl"}, "nl"),
        (IP["DE"], {}, "de"),
        (IP["FR"], {}, "fr"),
    ]
    for i, (peer, headers, expected) in enumerate(visits):
        for _ in range(2):
            assert await banner_language(peer, headers) == expected, headers
        assert negotiated == [lang for _, _, lang in visits[: i + 1]]
    assert await banner_language(IP["DE"], {"accept-language": "fr"}) == "fr"
    assert len(negotiated) == len(visits)  # the first visitor is still remembered with their language


def test_decisions_are_filed_under_the_keyed_hash_of_what_decides_them(tmp_path: Path) -> None:
    from cookiegate._geo import GeoResolver

    with GeoResolver(str(write_db(tmp_path / "city.mmdb", {"85.0.1.0/24": fr_record()}))) as geo:
        cache = _decisions.DecisionCache(geo)
        digests = set()
        for material in (b"", b"a", b"b", b"a" * 200, b"9 127.0.0.1\n\ncookie 3 x=1"):
            entry, digest = cache.get(material)
            assert entry is None and len(digest) == 16 and (len(material) < 8 or material not in digest)
            digests.add(digest)
        assert len(digests) == 5
        other = _decisions.DecisionCache(geo)
        assert other.get(b"a")[1] != cache.get(b"a")[1]  # a key of its own per cache (per process)


def test_the_geo_resolver_is_asked_for_a_new_database_only_when_its_file_is_due_for_a_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cookiegate import _geo as geo_module
    from cookiegate._geo import GeoResolver

    now = [1000.0]
    monkeypatch.setattr(geo_module, "clock", lambda: now[0])
    path = write_db(tmp_path / "city.mmdb", {"85.0.1.0/24": fr_record()})
    with GeoResolver(str(path), check_interval=5) as geo:
        cache = _decisions.DecisionCache(geo)
        asked = []
        generation = geo.generation
        monkeypatch.setattr(geo, "generation", lambda: asked.append(now[0]) or generation())
        entry = cache.put(cache.get(b"visitor")[1], decide(location=geo.lookup("85.0.1.7"), regime=STRICTEST,
                                                            choice=None, gpc=False, is_bot=False), time.time() + 30)
        for _ in range(3):
            assert cache.get(b"visitor")[0] is entry
        assert asked == []  # the file is not due yet: nothing could have changed
        write_db(path, {"85.0.1.0/24": de_record()})
        now[0] += 5
        assert cache.get(b"visitor")[0] is None and asked == [1005.0]  # due: looked, reloaded, forgotten
        assert cache.get(b"visitor")[0] is None and asked == [1005.0]


def test_a_closed_geo_resolver_makes_the_cache_forget_at_the_next_lookup(tmp_path: Path) -> None:
    from cookiegate._geo import GeoResolver

    geo = GeoResolver(str(write_db(tmp_path / "city.mmdb", {"85.0.1.0/24": fr_record()})), check_interval=3600)
    cache = _decisions.DecisionCache(geo)
    decision = decide(location=geo.lookup("85.0.1.7"), regime=STRICTEST, choice=None, gpc=False,
                      is_bot=False)
    cache.put(cache.get(b"visitor")[1], decision, time.time() + 30)
    assert cache.get(b"visitor")[0] is not None
    geo.close()
    assert cache.get(b"visitor")[0] is None


def test_a_cache_that_is_gone_is_not_kept_alive_by_the_geo_resolver(tmp_path: Path) -> None:
    import gc
    import weakref

    from cookiegate._geo import GeoResolver

    path = write_db(tmp_path / "city.mmdb", {"85.0.1.0/24": fr_record()})
    with GeoResolver(str(path), check_interval=0) as geo:
        kept = _decisions.DecisionCache(geo)
        gone = weakref.ref(_decisions.DecisionCache(geo))
        gc.collect()
        assert gone() is None  # the resolver holds its listener weakly
        kept.put(kept.get(b"visitor")[1], decide(location=geo.lookup("85.0.1.7"), regime=STRICTEST,
                                                 choice=None, gpc=False, is_bot=False), time.time() + 30)
        write_db(path, {"85.0.1.0/24": de_record()})
        assert kept.get(b"visitor")[0] is None  # the one still there is told (the other's listener is dropped)
        assert len(geo._listeners) == 1
