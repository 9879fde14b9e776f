"""``cookiegate scan``: what a real browser does on a page, as a visitor from a chosen place.

Headless Chromium (Playwright, the system browser: ``$COOKIEGATE_CHROMIUM`` or ``/usr/bin/chromium``) opens
the page through the gateway's admin preview: the admin token and a ``Cookiegate-Preview`` header go with
every request to the site's own origin — never to a third party. Every request and cookie is classified by
vendor and category with the site's tag registry, and any of a category the gateway did not allow for that
visitor is a leak. The allowed categories are the gateway's own answer (the ``Cookiegate-Decision`` header
of the previewed page), so a site that did not honour the preview is an error, not a clean scan.

Requests are classified the way the gateway classifies tags (the same registry and, in Consent Mode
"advanced", the same view of Google's tags, which load for everyone with storage denied: not a leak, but their
cookies are). A third-party request that no registry or catalogue entry claims is an *unclassified host*; it is
a leak where the gateway says unclassified third parties are blocked for this visitor.

Third-party requests are recorded and answered locally by default (nothing reaches a tracker, the scan
works offline; an attempted request is what matters); ``live=True`` lets them go to the network.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from ..policy._catalog import TagRegistry
from ..policy._categories import NECESSARY
from ..policy._consent_mode import ConsentModeClassifier, classifier_for
from ..policy._outcomes import UNCLASSIFIED, DecisionHeader, parse_decision_header
from ..policy._tag_matrix import location_for, parse_consent

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Request, Route

#: Chromium flags for headless runs in containers and CI, with no background traffic to pollute the request
#: list (the e2e harness uses the same list).
CHROMIUM_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
_GIF: Final = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
UNKNOWN: Final = "unknown"


class ScanError(RuntimeError):
    """The scan could not be made (no browser, page did not load, preview not honoured)."""


def chromium_path() -> str:
    """``$COOKIEGATE_CHROMIUM`` or Debian's ``/usr/bin/chromium``."""
    return os.environ.get("COOKIEGATE_CHROMIUM", "/usr/bin/chromium")


@dataclass(frozen=True, slots=True)
class SeenRequest:
    """One request the page made."""

    url: str
    resource_type: str
    first_party: bool
    vendor: str | None
    category: str
    leak: bool
    #: ``"denied"``: a Google tag that Consent Mode "advanced" loads with storage denied.
    consent_mode: str | None = None


@dataclass(frozen=True, slots=True)
class SeenCookie:
    """One cookie in the browser after the visit."""

    name: str
    domain: str
    vendor: str | None
    category: str
    leak: bool


@dataclass
class ScanReport:
    """What the browser did as that visitor, and which of it should not have happened."""

    url: str
    preview: str
    status: int
    decision_header: str
    allowed: frozenset[str]
    requests: list[SeenRequest] = field(default_factory=list)
    cookies: list[SeenCookie] = field(default_factory=list)
    #: The gateway's answer, read back from ``Cookiegate-Decision``.
    decision: DecisionHeader | None = None

    @property
    def leaks(self) -> list[SeenRequest | SeenCookie]:
        """Requests and cookies of a category the gateway did not allow."""
        return [*(r for r in self.requests if r.leak), *(c for c in self.cookies if c.leak)]

    def vendors_seen(self) -> set[str]:
        """Vendor ids of every request made."""
        return {r.vendor for r in self.requests if r.vendor}

    @property
    def unclassified_hosts(self) -> list[str]:
        """Third-party hosts no entry claims: requested by the page, or named by the gateway's header."""
        hosts = {urlsplit(r.url).hostname or r.url for r in self.requests if r.category == UNCLASSIFIED}
        hosts.update(self.decision.hosts if self.decision else ())
        return sorted(hosts)


def preview_header(
    country: str | None, state: str | None = None, consent: str = "none", gpc: bool = False
) -> str:
    """The ``Cookiegate-Preview`` value for these options (validated: ISO 3166 codes, a known consent state)."""
    parse_consent(consent)
    location_for(country, state)
    parts = [f"country={country}"] if country else []
    if state:
        parts.append(f"state={state}")
    parts += [f"consent={consent}", f"gpc={int(gpc)}"]
    return "; ".join(parts)


def allowed_from_header(value: str) -> frozenset[str]:
    """The ``allowed=necessary+analytics`` part of a ``Cookiegate-Decision`` header."""
    try:
        return parse_decision_header(value).allowed
    except ValueError as exc:
        raise ScanError(str(exc)) from None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or ""), parts.port


def scan(
    url: str,
    *,
    token: str,
    country: str | None,
    state: str | None = None,
    consent: str = "none",
    gpc: bool = False,
    registry: TagRegistry | None = None,
    consent_cookie: str = "cookiegate_consent",
    browser: Browser | None = None,
    live: bool = False,
    timeout_ms: float = 30_000,
    consent_mode: str = "basic",
    own: Callable[[str], bool] | None = None,
) -> ScanReport:
    """Open ``url`` in headless Chromium as a previewed visitor and classify what happened.

    ``browser`` reuses a running Playwright browser (tests); otherwise system Chromium is launched and closed.
    ``consent_mode`` is the site's (``advanced``: Google's tags load with storage denied, as the gateway lets
    them). ``own`` says which other hosts are the site's own (``cookie_domain``, ``csp_allow``): not unclassified.
    Raises :class:`ScanError` when the page cannot be loaded or the gateway did not honour the preview.
    """
    registry = registry or TagRegistry.builtin()
    classifier = classifier_for(registry, consent_mode)
    header = preview_header(country, state, consent, gpc)
    args = (url, token, header, registry, classifier, own, consent_cookie, live, timeout_ms)
    if browser is not None:
        return _scan_with(browser, *args)
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise ScanError("cookiegate scan needs Playwright: pip install 'cookiegate[scan]'") from None
    path = chromium_path()
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=path, args=list(CHROMIUM_ARGS))
        except PlaywrightError as exc:
            raise ScanError(f"could not start Chromium at {path!r} (set COOKIEGATE_CHROMIUM): {exc}") from None
        try:
            return _scan_with(launched, *args)
        finally:
            launched.close()


def _scan_with(
    browser: Browser,
    url: str,
    token: str,
    header: str,
    registry: TagRegistry,
    classifier: TagRegistry | ConsentModeClassifier,
    own: Callable[[str], bool] | None,
    consent_cookie: str,
    live: bool,
    timeout_ms: float,
) -> ScanReport:
    from playwright.sync_api import Error as PlaywrightError

    site = _origin(url)
    seen: list[tuple[str, str, bool]] = []
    errors: list[str] = []

    def route(route: Route, request: Request) -> None:
        try:
            first_party = _origin(request.url) == site
            seen.append((request.url, request.resource_type, first_party))
            if first_party:
                # The credential goes to the site's own origin only, never to a third party.
                route.continue_(
                    headers={**request.headers, "authorization": f"Bearer {token}", "cookiegate-preview": header}
                )
            elif live or urlsplit(request.url).scheme not in ("http", "https"):
                route.continue_()
            else:
                _stub(route, request.resource_type)
        except Exception as exc:  # noqa: BLE001 - a broken route must abort the request, never hang it
            errors.append(f"{request.url}: {exc!r}")
            route.abort()

    context = browser.new_context(service_workers="block")
    try:
        context.route("**/*", route)
        page = context.new_page()
        try:
            response = page.goto(url, wait_until="networkidle", timeout=timeout_ms)
        except PlaywrightError as exc:
            raise ScanError(f"could not load {url}: {exc}") from None
        if response is None:
            raise ScanError(f"no response from {url}")
        decision = response.headers.get("cookiegate-decision")
        if decision is None:
            raise ScanError(
                f"{url} answered {response.status} without a Cookiegate-Decision header: the preview was not "
                "honoured (wrong or missing admin token, or no cookiegate in front of the page)"
            )
        try:
            answer = parse_decision_header(decision)
        except ValueError as exc:
            raise ScanError(str(exc)) from None
        cookies = context.cookies()
    finally:
        context.close()
    if errors:
        raise ScanError("the request route failed:\n" + "\n".join(errors))
    report = ScanReport(
        url=url,
        preview=header,
        status=response.status,
        decision_header=decision,
        allowed=answer.allowed,
        decision=answer,
    )
    classify(report, seen, cookies, registry=registry, classifier=classifier, own=own, consent_cookie=consent_cookie)
    return report


def classify(
    report: ScanReport,
    seen: Sequence[tuple[str, str, bool]],
    cookies: Sequence[Mapping[str, Any]],
    *,
    registry: TagRegistry,
    classifier: TagRegistry | ConsentModeClassifier,
    own: Callable[[str], bool] | None,
    consent_cookie: str,
) -> None:
    """Add each request ``(url, resource type, first party)`` and cookie to ``report``, classified as the
    gateway classifies tags, and flag what the gateway's answer (``report.decision``) did not allow."""
    answer = report.decision
    allowed = report.allowed
    said = answer.tags if answer else {}
    lets_through = classifier.lets_through if isinstance(classifier, ConsentModeClassifier) else None
    for req_url, kind, first_party in seen:
        vendor = registry.vendor_for_url(req_url)
        category = vendor.category if vendor else _unclaimed(req_url, first_party, own)
        denied = vendor is not None and lets_through is not None and lets_through(vendor.id)
        if vendor is not None:
            # Not allowed by category (Consent Mode's denied state aside), or blocked by name on this page.
            leak = (category not in allowed and not denied) or said.get(vendor.id) == "blocked"
        else:
            # Unclassified: a leak only where the gateway says it blocks unclassified third parties.
            leak = category == UNCLASSIFIED and answer is not None and answer.unclassified is False
        report.requests.append(
            SeenRequest(
                url=req_url,
                resource_type=kind,
                first_party=first_party,
                vendor=vendor.id if vendor else None,
                category=category,
                leak=leak,
                consent_mode="denied" if denied and category not in allowed else None,
            )
        )
    for cookie in cookies:
        name = cookie.get("name", "")
        cvendor = None if name == consent_cookie else registry.vendor_for_cookie(name)
        category = cvendor.category if cvendor else (NECESSARY if name == consent_cookie else UNKNOWN)
        report.cookies.append(
            SeenCookie(
                name=name,
                domain=cookie.get("domain", ""),
                vendor=cvendor.id if cvendor else None,
                category=category,
                leak=cvendor is not None and category not in allowed,
            )
        )


def _unclaimed(url: str, first_party: bool, own: Callable[[str], bool] | None) -> str:
    """The category of a request no vendor claims: the site's own, unclassified, or unknown (no host)."""
    if first_party:
        return NECESSARY
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return UNKNOWN
    return NECESSARY if own is not None and own(parts.hostname) else UNCLASSIFIED


def _stub(route: Route, kind: str) -> None:
    if kind == "image":
        route.fulfill(status=200, content_type="image/gif", body=_GIF)
    elif kind == "script":
        route.fulfill(status=200, content_type="application/javascript", body="/* cookiegate scan stub */")
    elif kind == "document":
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>stub</title>")
    else:
        route.fulfill(status=200, content_type="text/plain", body="")


def format_report(report: ScanReport) -> str:
    """The ``cookiegate scan`` output: every request and cookie by category and vendor, leaks flagged."""
    answer = report.decision.describe() if report.decision else report.decision_header
    lines = [
        f"scan of {report.url} as {report.preview}: HTTP {report.status}",
        f"gateway decision: {answer}",
        "",
        "requests:",
    ]
    for r in sorted(report.requests, key=lambda r: (not r.leak, r.category, r.vendor or "", r.url)):
        flag = "LEAK " if r.leak else "     "
        party = "1st" if r.first_party else "3rd"
        vendor = r.vendor or "-"
        if r.consent_mode:
            vendor += f" ({r.consent_mode})"
        lines.append(f"  {flag}{r.category:<12} {vendor:<20} {party} {r.resource_type:<10} {r.url[:140]}")
    lines += ["", "cookies:"]
    for c in sorted(report.cookies, key=lambda c: (not c.leak, c.category, c.name)):
        flag = "LEAK " if c.leak else "     "
        lines.append(f"  {flag}{c.category:<12} {c.vendor or '-':<20} {c.name} (domain {c.domain})")
    if not report.cookies:
        lines.append("  (none)")
    lines += ["", "unclassified third parties (classify each in [[tags]] or csp_allow):"]
    lines += [f"  unclassified host {host}" for host in report.unclassified_hosts] or ["  (none)"]
    if any(r.consent_mode for r in report.requests):
        lines += ["", "(denied) = Consent Mode advanced: loads with storage denied, no cookies: not a leak"]
    leaks = report.leaks
    lines.append("")
    lines.append(f"{len(leaks)} leak(s)" if leaks else "no leaks: nothing of a refused category was requested or set")
    return "\n".join(lines)


def report_json(report: ScanReport) -> dict[str, Any]:
    """``cookiegate scan --json`` (schema: cookiegate/cli/schemas/scan.json)."""
    answer = report.decision
    return {
        "url": report.url,
        "preview": report.preview,
        "status": report.status,
        "decision": {
            "header": report.decision_header,
            "allowed": sorted(report.allowed),
            "unclassified": None if answer is None else answer.unclassified,
            "tags": dict(sorted(answer.tags.items())) if answer else {},
        },
        "requests": [
            {
                "url": r.url,
                "resource_type": r.resource_type,
                "first_party": r.first_party,
                "vendor": r.vendor,
                "category": r.category,
                "consent_mode": r.consent_mode,
                "leak": r.leak,
            }
            for r in report.requests
        ],
        "cookies": [
            {"name": c.name, "domain": c.domain, "vendor": c.vendor, "category": c.category, "leak": c.leak}
            for c in report.cookies
        ],
        "unclassified_hosts": report.unclassified_hosts,
        "leaks": len(report.leaks),
    }


def leak_summary(leaks: Sequence[SeenRequest | SeenCookie]) -> str:
    """One line per leak (for assertion messages)."""
    return "\n".join(f"  {getattr(x, 'url', None) or getattr(x, 'name', '')} [{x.category}]" for x in leaks)


__all__ = [
    "CHROMIUM_ARGS",
    "ScanError",
    "ScanReport",
    "SeenCookie",
    "SeenRequest",
    "allowed_from_header",
    "chromium_path",
    "classify",
    "format_report",
    "leak_summary",
    "preview_header",
    "report_json",
    "scan",
]
