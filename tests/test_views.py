"""Every marketer's view says what the gate does: the preview header, ``tags``, ``scan`` and the dashboard read
the gate's events and rules (Consent Mode "advanced" included), and name unclassified hosts as such.

The events and counter rows here have the shape the rewriter reports (``TagEvent`` with ``host`` on an
unclassified reference; outcome key ``unclassified:<host>``)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cookiegate import CookieGateMiddleware
from cookiegate.cli._main import main
from cookiegate.cli._scan import ScanReport, classify, format_report, report_json
from cookiegate.policy._catalog import TagRegistry
from cookiegate.policy._consent_mode import classifier_for
from cookiegate.policy._decision import Permissions
from cookiegate.policy._jurisdiction import Jurisdiction
from cookiegate.policy._outcomes import decision_header, describe_key, outcome_key, parse_decision_header
from cookiegate.policy._tag_matrix import build_matrix, decision_for, location_for, tag_rows
from cookiegate.store import CounterRow, SQLiteStore

from .helpers import IP, PAGE, client, make_config, schema

TOKEN = "admin-token-" + "v" * 40
BEARER = {"authorization": f"Bearer {TOKEN}"}
REGISTRY = TagRegistry.builtin()


@dataclass(frozen=True, slots=True)
class Event:
    """A tag event as the rewriter reports it."""

    vendor_id: str | None
    category: str
    fired: bool
    host: str | None = None


def _decision(country: str = "FR", consent: str = "none", *, unclassified: bool = False) -> Any:
    decision = decide_for(country, consent)
    if unclassified:
        from dataclasses import replace

        decision = replace(decision, permissions=replace(decision.permissions, unclassified=True))
    return decision


def decide_for(country: str, consent: str = "none", gpc: bool = False) -> Any:
    return decision_for(Jurisdiction(), location_for(country), consent, gpc=gpc)


# ---------------------------------------------------------------------------------------------------------
# The preview header, from events


def test_the_decision_header_lists_every_tag_event_with_unclassified_hosts_as_such() -> None:
    events = [
        Event("google-analytics", "analytics", False),
        Event("google-analytics", "analytics", False),
        Event("youtube", "social", True),
        Event(None, "unclassified", False, "px.unknown-ads.example"),
        Event(None, "analytics", True),
    ]
    header = decision_header(events, _decision())
    assert header == (
        "explicit:analytics=fired, google-analytics=blocked, unclassified:px.unknown-ads.example=blocked, "
        "youtube=fired, allowed=necessary, unclassified=blocked"
    )
    answer = parse_decision_header(header)
    assert answer.hosts == ("px.unknown-ads.example",) and answer.unclassified is False
    assert answer.tags["youtube"] == "fired" and answer.allowed == frozenset({"necessary"})
    assert "unclassified host px.unknown-ads.example" in answer.describe()


def test_a_vendor_with_one_blocked_tag_is_reported_blocked_and_unclassified_allowed_when_permitted() -> None:
    events = [Event("meta-pixel", "ads", True), Event("meta-pixel", "ads", False)]
    header = decision_header(events, _decision("JP", unclassified=True))
    assert header.startswith("meta-pixel=blocked, ") and header.endswith("unclassified=allowed")


def test_outcome_keys_and_their_names() -> None:
    assert outcome_key("hotjar", "analytics") == "hotjar"
    assert outcome_key(None, "unclassified", "cdn.x.example") == "unclassified:cdn.x.example"
    assert outcome_key(None, "ads") == "explicit:ads"
    assert describe_key("unclassified:cdn.x.example") == "unclassified host cdn.x.example"
    assert describe_key("hotjar", {"hotjar": "Hotjar"}) == "Hotjar"


# ---------------------------------------------------------------------------------------------------------
# The same rule as the gate: Permissions.fires over the classifier's view


def test_consent_mode_advanced_shows_googles_tags_loading_denied_not_blocked() -> None:
    advanced = classifier_for(REGISTRY, "advanced")
    decision = decide_for("FR")
    rows = {r.tag_id: r for r in tag_rows(REGISTRY, decision, advanced)}
    assert rows["google-analytics"].fires and rows["google-analytics"].consent_mode == "denied"
    assert "Consent Mode" in rows["google-analytics"].reason
    assert not rows["meta-pixel"].fires and rows["meta-pixel"].consent_mode is None
    basic = {r.tag_id: r for r in tag_rows(REGISTRY, decision, classifier_for(REGISTRY, "basic"))}
    assert not basic["google-analytics"].fires
    accepted = {r.tag_id: r for r in tag_rows(REGISTRY, decide_for("FR", "accept"), advanced)}
    assert accepted["google-analytics"].fires and accepted["google-analytics"].consent_mode is None


def test_per_vendor_permissions_decide_a_row_as_they_decide_a_tag() -> None:
    from dataclasses import replace

    decision = decide_for("FR", "analytics")
    named = replace(
        decision,
        permissions=Permissions(decision.permissions.categories, vendors_on=frozenset({"youtube"}),
                                vendors_off=frozenset({"google-analytics"})),
    )  # fmt: skip
    rows = {r.tag_id: r for r in tag_rows(REGISTRY, named)}
    assert (rows["youtube"].fires, rows["youtube"].reason) == (True, "allowed by name")
    assert (rows["google-analytics"].fires, rows["google-analytics"].reason) == (False, "refused by name")
    assert rows["segment"].fires  # the rest of analytics follows its category


def test_the_matrix_uses_the_classifier_and_says_what_unclassified_hosts_get() -> None:
    matrix = build_matrix(REGISTRY, Jurisdiction(), classifier=classifier_for(REGISTRY, "advanced"))
    ga = next(cells for tag, cells in zip(matrix.tags, matrix.cells, strict=True) if tag.id == "google-analytics")
    assert all(cell.fires for cell in ga)
    # Let through only where no consent is asked before anything fires and nothing was refused (GPC refuses).
    let_through = [(c.place, c.consent, c.gpc) for c, u in zip(matrix.columns, matrix.unclassified, strict=True)
                   if u.fires]  # fmt: skip
    assert let_through == [("US-CA", "none", False), ("US-CA", "accept", False), ("JP", "none", False),
                           ("JP", "accept", False), ("JP", "accept", True)]  # fmt: skip
    # unclassified = "ads": treated as the strictest disclosed category, so it fires exactly where Meta's pixel does.
    ads = build_matrix(REGISTRY, Jurisdiction(), unclassified="ads")
    meta = next(cells for tag, cells in zip(ads.tags, ads.cells, strict=True) if tag.id == "meta-pixel")
    assert [u.fires for u in ads.unclassified] == [cell.fires for cell in meta]
    assert [u.fires for u in ads.unclassified] != [u.fires for u in matrix.unclassified]
    assert [g[:2] for g in matrix.groups] == [("opt-in", "FR"), ("australia", "AU"), ("opt-out", "US-CA"),
                                              ("notice", "JP")]  # fmt: skip


def test_tags_command_shows_consent_mode_denied_for_an_advanced_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cookiegate.toml"
    config.write_text('consent_mode = "advanced"\n')
    assert main(["tags", "--config", str(config), "--country", "DE"]) == 0
    out = capsys.readouterr().out
    ga = next(line for line in out.splitlines() if line.startswith("google-analytics "))
    assert ga.split()[4:6] == ["analytics", "denied"] and "Consent Mode" in ga
    assert main(["tags", "--config", str(config)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("google-analytics "))
    assert row.split()[2] == "d"  # opt-in, no choice: loads with storage denied


# ---------------------------------------------------------------------------------------------------------
# tags --json, and the unclassified hosts it names


def _site_with_sightings(tmp_path: Path) -> Path:
    db = tmp_path / "log.db"

    async def fill() -> None:
        store = SQLiteStore(str(db))
        await store.open()
        await store.add_counters(
            [
                CounterRow("2026-12-03", "tag", "unclassified:cdn.unknown-chat.example", "FR", "FR", "blocked", 7),
                CounterRow("2026-12-03", "page", "unclassified:cdn.unknown-chat.example", "-", "-", "/contact", 7),
                CounterRow("2026-12-03", "tag", "unclassified:px.unknown-ads.example", "FR", "FR", "blocked", 2),
            ]
        )
        await store.close()

    asyncio.run(fill())
    config = tmp_path / "cookiegate.toml"
    config.write_text(f'log_url = "sqlite:///{db}"\n')
    return config


def test_tags_names_the_unclassified_hosts_seen_on_the_sites_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _site_with_sightings(tmp_path)
    assert main(["tags", "--config", str(config), "--country", "FR"]) == 0
    out = capsys.readouterr().out
    assert "unclassified  no     no purpose disclosed: blocked until classified" in out
    assert "unclassified host cdn.unknown-chat.example  on /contact  (blocked 7, let through 0)" in out
    # With what it is probably for, where the catalogue can guess (a "px." host is an ad pixel's).
    assert "unclassified host px.unknown-ads.example  on -  (blocked 2, let through 0; probably ads (" in out


@pytest.mark.parametrize("argv", [["--country", "US", "--state", "CA", "--gpc"], []])
def test_tags_json_follows_its_schema(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tags", "--config", str(_site_with_sightings(tmp_path)), "--json", *argv]) == 0
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, schema("tags"))
    hosts = {h["host"]: h for h in data["unclassified"]["hosts"]}
    assert hosts["cdn.unknown-chat.example"]["suggested_category"] is None
    assert hosts["px.unknown-ads.example"]["suggested_category"] == "ads"
    if argv:
        assert data["kind"] == "visitor" and data["visitor"]["subdivision"] == "US-CA"
        ads = next(t for t in data["tags"] if t["id"] == "meta-pixel")
        assert (ads["fires"], ads["reason"]) == (False, "GPC")
    else:
        assert data["kind"] == "matrix" and len(data["columns"]) == 20
        assert all(len(t["cells"]) == 20 for t in data["tags"])


# ---------------------------------------------------------------------------------------------------------
# scan: the browser's requests against the gateway's answer


def _report(header: str) -> ScanReport:
    answer = parse_decision_header(header)
    return ScanReport(url="http://site.test/", preview="country=FR; consent=none; gpc=0", status=200,
                      decision_header=header, allowed=answer.allowed, decision=answer)  # fmt: skip


SEEN = [
    ("http://site.test/", "document", True),
    ("https://www.googletagmanager.com/gtag/js?id=G-1", "script", False),
    ("https://region1.google-analytics.com/g/collect?v=2", "fetch", False),
    ("https://px.unknown-ads.example/p.gif", "image", False),
    ("https://cdn.kactuce.com/app.js", "script", False),
]


def test_scan_in_consent_mode_advanced_counts_googles_denied_pings_as_no_leak_but_its_cookies_as_one() -> None:
    report = _report("google-analytics=fired, google-tag-manager=fired, allowed=necessary")
    advanced = classifier_for(REGISTRY, "advanced")
    classify(report, SEEN[:3], [{"name": "_ga", "domain": ".site.test"}], registry=REGISTRY, classifier=advanced,
             own=None, consent_cookie="cookiegate_consent")  # fmt: skip
    google = [r for r in report.requests if r.vendor]
    assert google and all(not r.leak and r.consent_mode == "denied" for r in google)
    assert [c.name for c in report.leaks] == ["_ga"]
    basic = _report("google-analytics=blocked, allowed=necessary")
    classify(basic, SEEN[:3], [], registry=REGISTRY, classifier=REGISTRY, own=None, consent_cookie="c")
    assert len(basic.leaks) == 2 and {r.vendor for r in basic.leaks} == {"google-analytics"}  # type: ignore[union-attr]


def test_scan_lists_unclassified_hosts_and_flags_them_where_the_gateway_blocks_them() -> None:
    def own(host: str) -> bool:
        return host == "cdn.kactuce.com"

    blocked = _report("unclassified:px.unknown-ads.example=blocked, allowed=necessary, unclassified=blocked")
    classify(blocked, SEEN, [], registry=REGISTRY, classifier=REGISTRY, own=own, consent_cookie="c")
    assert blocked.unclassified_hosts == ["px.unknown-ads.example"]
    leaks = {r.url for r in blocked.leaks}  # type: ignore[union-attr]
    assert "https://px.unknown-ads.example/p.gif" in leaks and "https://cdn.kactuce.com/app.js" not in leaks
    text = format_report(blocked)
    assert "unclassified host px.unknown-ads.example" in text
    assert "unclassified third parties blocked" in text.splitlines()[1]
    unsaid = _report("allowed=necessary")  # a gateway that does not say: listed, not judged
    classify(unsaid, SEEN[3:4], [], registry=REGISTRY, classifier=REGISTRY, own=own, consent_cookie="c")
    assert unsaid.unclassified_hosts == ["px.unknown-ads.example"] and not unsaid.leaks


def test_scan_flags_a_vendor_the_gateway_says_it_blocked_by_name_even_in_an_allowed_category() -> None:
    report = _report("google-analytics=blocked, allowed=analytics+necessary")
    classify(report, SEEN[2:3], [], registry=REGISTRY, classifier=REGISTRY, own=None, consent_cookie="c")
    assert [r.vendor for r in report.leaks] == ["google-analytics"]  # type: ignore[union-attr]


def test_scan_json_follows_its_schema() -> None:
    report = _report("youtube=fired, allowed=necessary+social, unclassified=blocked")
    classify(report, SEEN, [{"name": "cookiegate_consent", "domain": "site.test"}], registry=REGISTRY,
             classifier=REGISTRY, own=None, consent_cookie="cookiegate_consent")  # fmt: skip
    data = report_json(report)
    jsonschema.validate(data, schema("scan"))
    assert data["decision"]["tags"] == {"youtube": "fired"} and data["leaks"] == len(report.leaks) > 0
    assert json.loads(json.dumps(data)) == data


# ---------------------------------------------------------------------------------------------------------
# The dashboard


def _app(scope: Any, receive: Any, send: Any) -> Any:
    async def run() -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": PAGE.encode()})

    return run()


TODAY = datetime.now(UTC).date().isoformat()


async def _dashboard(tmp_path: Path, rows: list[CounterRow], query: str = "", **config: Any) -> tuple[Any, str]:
    mw = CookieGateMiddleware(_app, config=make_config(tmp_path, admin_token=TOKEN, **config))
    await mw.gateway.startup()
    await mw.gateway.store.add_counters(rows)
    async with client(mw, IP["FR"]) as c:
        data = (await c.get(f"/cookiegate/admin/data.json{query}", headers=BEARER)).json()
        html = (await c.get(f"/cookiegate/admin{query}", headers=BEARER)).text
    await mw.gateway.shutdown()
    return data, html


ROWS = [
    CounterRow(TODAY, "tag", "linkedin-insight", "FR", "FR", "fired", 75),
    CounterRow(TODAY, "tag", "linkedin-insight", "DE", "DE", "blocked", 5),
    CounterRow(TODAY, "tag", "google-analytics", "FR", "FR", "blocked", 30),
    CounterRow(TODAY, "tag", "unclassified:px.unknown-ads.example", "FR", "FR", "blocked", 12),
    CounterRow(TODAY, "page", "unclassified:px.unknown-ads.example", "-", "-", "/pricing", 12),
]


@pytest.mark.anyio
async def test_the_dashboard_groups_counts_by_vendor_and_sorts_them(tmp_path: Path) -> None:
    data, html = await _dashboard(tmp_path, ROWS)
    groups = [(v["key"], v["fired_7d"], v["blocked_7d"]) for v in data["vendor_counts"]]
    assert groups == [
        ("google-analytics", 0, 30), ("unclassified:px.unknown-ads.example", 0, 12), ("linkedin-insight", 75, 5)
    ]  # blocked 7 d, most first: the default
    linkedin = data["vendor_counts"][2]
    assert linkedin["name"] == "LinkedIn Insight Tag" and [c["country"] for c in linkedin["countries"]] == ["DE", "FR"]
    assert data["vendor_counts"][1]["name"] == "unclassified host px.unknown-ads.example"
    assert 'aria-sort="descending"' in html and "?sort=fired_7d&amp;order=desc#tag-counts" in html
    by_fired, _ = await _dashboard(tmp_path / "2", ROWS, "?sort=fired_7d&order=desc")
    assert by_fired["vendor_counts"][0]["key"] == "linkedin-insight"
    by_name, _ = await _dashboard(tmp_path / "3", ROWS, "?sort=name&order=asc")
    assert [v["key"] for v in by_name["vendor_counts"]][:2] == ["google-analytics", "linkedin-insight"]


@pytest.mark.anyio
async def test_the_dashboard_has_an_unclassified_section_and_lint_names_the_host(tmp_path: Path) -> None:
    data, html = await _dashboard(tmp_path, ROWS)
    (host,) = data["unclassified"]
    assert (host["host"], host["pages"], host["blocked"]) == ("px.unknown-ads.example", [["/pricing", 12]], 12)
    assert [v["where"] for v in data["lint"]] == ["unclassified host px.unknown-ads.example"]
    assert 'id="unclassified-table"' in html and "/pricing (12)" in html
    assert host["suggestion"]["category"] == "ads" and '<td class="suggestion">ads <span class="note">(' in html
    # Declared the site's own since: no longer unclassified, though the counters still hold it.
    classified, html = await _dashboard(tmp_path / "2", ROWS, csp_allow=("https://px.unknown-ads.example",))
    assert classified["unclassified"] == [] and classified["lint"] == []
    assert 'id="no-unclassified"' in html


@pytest.mark.anyio
async def test_the_preview_form_decides_with_the_gates_classifier(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(_app, config=make_config(tmp_path, admin_token=TOKEN, consent_mode="advanced"))
    async with client(mw, IP["FR"]) as c:
        page = await c.get("/cookiegate/admin/preview?country=DE", headers=BEARER)
    assert page.status_code == 200
    row = next(line for line in page.text.splitlines() if "<td>google-analytics</td>" in line)
    assert "yes, denied" in row and "Consent Mode" in row
    assert "<td>unclassified</td>" in page.text
