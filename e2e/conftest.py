"""End-to-end harness: the demo under a real uvicorn, visited by a real Debian Chromium (Playwright).

One uvicorn subprocess and one browser per session; a new browser context (fresh cookies) per visitor.
Every request the browser makes to a host other than the demo server is recorded and answered locally
by the context's route, so nothing ever reaches the network and a test can say "no request of category
ads happened". Hosts and cookies are classified with the same tag registry the gateway uses.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, Protocol
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Response,
    Route,
    sync_playwright,
)

from cookiegate.categories import NECESSARY

if TYPE_CHECKING:
    from cookiegate.catalog import TagRegistry

ROOT: Final = Path(__file__).resolve().parent.parent
ARTIFACTS: Final = Path(__file__).resolve().parent / "artifacts"

#: Hosts that are the demo server itself; everything else is "third party" and gets recorded + stubbed.
LOCAL_HOSTS: Final = frozenset({"127.0.0.1", "localhost"})
#: The demo's "visit as" cookie: the wrapper places loopback visitors where this cookie says.
PLACE_COOKIE: Final = "cookiegate_demo_place"
CONSENT_COOKIE: Final = "cookiegate_consent"
#: The categories that need a choice before anything of theirs may run in an opt-in regime.
TRACKING: Final = frozenset({"analytics", "ads", "social"})
#: Category given to a third-party request or cookie the registry does not know.
UNKNOWN: Final = "unknown"

CHROMIUM_ARGS: Final = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

#: Default app: a function in this module, so the server needs nothing the suite does not control.
DEFAULT_FACTORY: Final = "e2e.conftest:demo_app_factory"
SERVER_START_TIMEOUT_S: Final = 60.0

# The smallest valid GIF (1x1, transparent): answers image requests so pixels "load".
GIF_1X1: Final = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
STUB_HTML: Final = "<!doctype html><title>cookiegate e2e stub</title><p>third-party frame stub</p>"

#: Cookies the stubbed vendor scripts set with document.cookie, like the real ones do on the first-party
#: site, so withdrawal has something to expire. Keyed by host suffix.
STUB_SCRIPT_COOKIES: Final[Mapping[str, str]] = {
    "googletagmanager.com": "_ga=GA1.1.1.1",
    "google-analytics.com": "_ga=GA1.1.1.1",
    "connect.facebook.net": "_fbp=fb.1.1.1",
}


def demo_app_factory() -> Any:
    """The app uvicorn serves (``--factory``): the cookiegate demo with its demo defaults."""
    from cookiegate import Config
    from cookiegate.demo import create_demo_app

    return create_demo_app(Config.demo())


# --------------------------------------------------------------------------------------------------
# Classification (the gateway's own registry, imported lazily so a missing piece fails one test loudly)


@functools.cache
def _registry() -> TagRegistry:
    # Imported here so a registry that is not built yet fails the tests that need it, loudly, and not
    # the uvicorn subprocess, which imports this module only for the app factory.
    from cookiegate.catalog import TagRegistry

    return TagRegistry.builtin()


def category_for_url(url: str) -> tuple[str, str | None]:
    """(category, vendor id) of a third-party URL; ``("unknown", None)`` when the registry has no vendor."""
    vendor = _registry().vendor_for_url(url)
    if vendor is None:
        return UNKNOWN, None
    return str(vendor.category), str(vendor.id)


def category_for_cookie(name: str) -> str:
    """Category of a cookie name per the registry; our own consent/demo cookies are necessary."""
    if name in (CONSENT_COOKIE, PLACE_COOKIE):
        return NECESSARY
    category = _registry().category_for_cookie(name)
    return UNKNOWN if category is None else str(category)


def _host_matches(host: str, suffix: str) -> bool:
    return host == suffix or host.endswith("." + suffix)


# --------------------------------------------------------------------------------------------------
# Recording


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the browser made to a host that is not the demo server."""

    url: str
    host: str
    resource_type: str
    method: str
    category: str
    vendor: str | None
    #: The demo path the visitor was on (the last ``Visitor.goto``), for readable failures.
    during: str

    def __str__(self) -> str:
        kind = f"{self.resource_type} {self.method}"
        return f"[{self.category}/{self.vendor}] {kind} {self.url} (on {self.during})"


@dataclass(frozen=True, slots=True)
class SeenCookie:
    """One cookie in the browser context, classified."""

    name: str
    domain: str
    path: str
    category: str

    def __str__(self) -> str:
        return f"{self.name} [{self.category}] domain={self.domain} path={self.path}"


def _stub_response(route: Route, request: Request) -> None:
    """Answer a third-party request locally, shaped like what the browser expects for its type."""
    host = urlsplit(request.url).hostname or ""
    kind = request.resource_type
    cors = {"Access-Control-Allow-Origin": "*"}
    if kind == "script":
        lines = [f"/* cookiegate e2e stub for {host} */"]
        for suffix, cookie in STUB_SCRIPT_COOKIES.items():
            if _host_matches(host, suffix):
                lines.append(f'document.cookie = "{cookie}; path=/";')
        route.fulfill(status=200, content_type="application/javascript", body="\n".join(lines), headers=cors)
    elif kind == "image":
        route.fulfill(status=200, content_type="image/gif", body=GIF_1X1, headers=cors)
    elif kind == "document":
        route.fulfill(status=200, content_type="text/html", body=STUB_HTML)
    elif kind == "stylesheet":
        route.fulfill(status=200, content_type="text/css", body="", headers=cors)
    else:
        route.fulfill(status=200, content_type="text/plain", body="", headers=cors)


@dataclass
class Visitor:
    """A browser context placed somewhere, with every third-party request it made recorded."""

    context: BrowserContext
    page: Page
    base_url: str
    place: str | None
    requests: list[RecordedRequest] = field(default_factory=list)
    current_path: str = "(none)"
    harness_errors: list[str] = field(default_factory=list)

    # -- navigation ---------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """Absolute URL of a demo path."""
        return self.base_url + path

    def goto(self, path: str) -> Response:
        """Navigate to ``path`` and wait until the network has been idle, so late tags are counted."""
        self.current_path = path
        response = self.page.goto(self.url(path), wait_until="networkidle")
        self.check_harness()
        assert response is not None, f"no response for {path}"
        assert response.status == 200, f"GET {path} answered {response.status}"
        return response

    def reload(self) -> None:
        """Reload the current page and wait for network idle."""
        response = self.page.reload(wait_until="networkidle")
        self.check_harness()
        assert response is not None and response.status == 200, f"reload of {self.current_path} failed"

    def settle(self) -> None:
        """Wait for network idle after an action that navigates (form post, redirect)."""
        self.page.wait_for_load_state("load")
        self.page.wait_for_load_state("networkidle")
        self.current_path = urlsplit(self.page.url).path or "/"
        self.check_harness()

    # -- what happened ------------------------------------------------------------------------------

    def mark(self) -> int:
        """A position in the request log; pass it to :meth:`requests_since`."""
        return len(self.requests)

    def requests_since(self, mark: int = 0) -> list[RecordedRequest]:
        """Third-party requests recorded after ``mark``."""
        self.check_harness()
        return self.requests[mark:]

    def requests_of(self, categories: frozenset[str] | set[str], mark: int = 0) -> list[RecordedRequest]:
        """Third-party requests after ``mark`` whose category is one of ``categories``."""
        self.check_harness()
        return [r for r in self.requests[mark:] if r.category in categories]

    def cookies(self) -> list[SeenCookie]:
        """Every cookie of the context, classified by the registry."""
        return [
            SeenCookie(
                name=c.get("name", ""),
                domain=c.get("domain", ""),
                path=c.get("path", ""),
                category=category_for_cookie(c.get("name", "")),
            )
            for c in self.context.cookies()
        ]

    def cookies_of(self, categories: frozenset[str] | set[str]) -> list[SeenCookie]:
        """Cookies of the context whose category is one of ``categories``."""
        return [c for c in self.cookies() if c.category in categories]

    def has_cookie(self, name: str) -> bool:
        """True when the context holds a cookie called ``name``."""
        return any(c.name == name for c in self.cookies())

    def consent_state(self) -> dict[str, Any]:
        """``GET /cookiegate/consent`` with this visitor's cookies and headers: the gateway's decision."""
        response = self.context.request.get(self.url("/cookiegate/consent"))
        assert response.ok, f"GET /cookiegate/consent answered {response.status}"
        data = response.json()
        assert isinstance(data, dict), f"consent state is not an object: {data!r}"
        return data

    def describe(self) -> str:
        """Readable dump of everything recorded, for assertion messages and artifacts."""
        lines = [f"visitor place={self.place} url={self.page.url}", "third-party requests:"]
        lines += [f"  {r}" for r in self.requests] or ["  (none)"]
        lines.append("cookies:")
        lines += [f"  {c}" for c in self.cookies()] or ["  (none)"]
        return "\n".join(lines)

    # -- wiring -------------------------------------------------------------------------------------

    def _on_request(self, request: Request) -> None:
        # Runs inside Playwright's event dispatch: an exception here would be lost or stall the page, so
        # it is kept and re-raised by the next navigation instead.
        try:
            self._record(request)
        except Exception as exc:  # noqa: BLE001
            self.harness_errors.append(f"recording {request.url}: {exc!r}")

    def _record(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https", "ws", "wss"):
            return  # data:, blob:, about: never leave the browser
        host = parts.hostname or ""
        if host in LOCAL_HOSTS:
            return
        category, vendor = category_for_url(request.url)
        self.requests.append(
            RecordedRequest(
                url=request.url,
                host=host,
                resource_type=request.resource_type,
                method=request.method,
                category=category,
                vendor=vendor,
                during=self.current_path,
            )
        )

    def _route(self, route: Route, request: Request) -> None:
        host = urlsplit(request.url).hostname or ""
        if host in LOCAL_HOSTS:
            route.continue_()
            return
        try:
            _stub_response(route, request)
        except Exception as exc:  # noqa: BLE001 - never let a third-party request through or hang
            self.harness_errors.append(f"stubbing {request.url}: {exc!r}")
            route.abort()

    def check_harness(self) -> None:
        """Fail loudly if recording or stubbing broke (e.g. the tag registry could not be built)."""
        assert not self.harness_errors, "e2e harness errors:\n" + "\n".join(self.harness_errors)


def format_requests(requests: Sequence[RecordedRequest]) -> str:
    """One request per line, for assertion messages."""
    return "\n".join(f"  {r}" for r in requests) or "  (none)"


def format_cookies(cookies: Sequence[SeenCookie]) -> str:
    """One cookie per line, for assertion messages."""
    return "\n".join(f"  {c}" for c in cookies) or "  (none)"


# --------------------------------------------------------------------------------------------------
# Server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _log_tail(log: IO[str]) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-4000:]


def _wait_until_answering(proc: subprocess.Popen[bytes], base_url: str, log: IO[str]) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    last_error = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {proc.returncode} before answering:\n{_log_tail(log)}")
        try:
            with urllib.request.urlopen(base_url + "/", timeout=2) as response:
                response.read()
                return
        except urllib.error.HTTPError as exc:
            exc.close()
            return  # it answered, even if not 200: the tests will say what is wrong with the page
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last_error = repr(exc)
        time.sleep(0.1)
    raise RuntimeError(f"uvicorn did not answer {base_url} ({last_error}):\n{_log_tail(log)}")


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """Base URL of the demo served by a real uvicorn subprocess on 127.0.0.1 (killed at session end).

    ``COOKIEGATE_E2E_FACTORY`` (``module:function``) serves another app factory instead of the demo.
    """
    factory = os.environ.get("COOKIEGATE_E2E_FACTORY", DEFAULT_FACTORY)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "uvicorn", factory, "--factory",
        "--app-dir", str(ROOT),
        "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    with tempfile.TemporaryFile("w+", encoding="utf-8", prefix="cookiegate-e2e-uvicorn") as log:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_answering(proc, base_url, log)
            yield base_url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --------------------------------------------------------------------------------------------------
# Browser


def chromium_executable() -> str:
    """The Chromium to drive: ``$COOKIEGATE_CHROMIUM`` or Debian's ``/usr/bin/chromium``."""
    return os.environ.get("COOKIEGATE_CHROMIUM", "/usr/bin/chromium")


def _require_chromium(path: str) -> None:
    """Fail (CI, and by default) or skip (only when asked) when the browser is missing — never pass."""
    resolved = shutil.which(path) if os.sep not in path else (path if os.access(path, os.X_OK) else None)
    if resolved is not None:
        return
    message = (
        f"Chromium not found or not executable at {path!r}. Install Debian's chromium "
        "(apt-get install chromium) or point COOKIEGATE_CHROMIUM at a Chromium binary; "
        "`playwright install` is not used by this suite."
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message + " (CI is set: e2e tests must run.)", pytrace=False)
    if os.environ.get("COOKIEGATE_E2E_SKIP_MISSING") == "1":
        pytest.skip(message + " (COOKIEGATE_E2E_SKIP_MISSING=1)")
    pytest.fail(message + " Set COOKIEGATE_E2E_SKIP_MISSING=1 to skip the e2e suite locally.", pytrace=False)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    """The Playwright driver for the session."""
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """One Chromium for the whole session."""
    path = chromium_executable()
    _require_chromium(path)
    browser = playwright_instance.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


_PHASE_REPORTS: Final = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item so fixtures can tell a failed test at teardown."""
    report = yield
    item.stash.setdefault(_PHASE_REPORTS, {})[report.when] = report
    return report


class NewVisitor(Protocol):
    """Signature of the :func:`new_visitor` fixture's factory."""

    def __call__(
        self, place: str | None, *, headers: dict[str, str] | None = None, javascript: bool = True
    ) -> Visitor: ...


@pytest.fixture
def new_visitor(browser: Browser, server_url: str, request: pytest.FixtureRequest) -> Iterator[NewVisitor]:
    """Factory of visitors: ``new_visitor("FR", headers={...}, javascript=False)``.

    Each visitor is a fresh browser context (no cookies) with the demo place cookie set, a route that
    stubs every third-party request and a recorder. On failure a screenshot and the request log of
    every visitor are written to ``e2e/artifacts/``.
    """
    visitors: list[Visitor] = []

    def make(
        place: str | None,
        *,
        headers: dict[str, str] | None = None,
        javascript: bool = True,
    ) -> Visitor:
        context = browser.new_context(
            java_script_enabled=javascript,
            extra_http_headers=headers,
            service_workers="block",  # a worker's fetches would bypass page-level accounting
        )
        if place is not None:
            context.add_cookies([{"name": PLACE_COOKIE, "value": place, "url": server_url + "/"}])
        page = context.new_page()
        visitor = Visitor(context=context, page=page, base_url=server_url, place=place)
        context.on("request", visitor._on_request)
        context.route("**/*", visitor._route)
        visitors.append(visitor)
        return visitor

    yield make

    reports = request.node.stash.get(_PHASE_REPORTS, {})
    failed = any(r.failed for r in reports.values())
    for index, visitor in enumerate(visitors):
        if failed:
            _save_artifacts(request.node.name, index, visitor)
        visitor.context.close()


def _save_artifacts(test_name: str, index: int, visitor: Visitor) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / f"{test_name}-{index}"
    try:
        visitor.page.screenshot(path=str(stem.with_suffix(".png")), full_page=True)
    except Exception as exc:  # noqa: BLE001 - a broken page must not hide the real failure
        stem.with_suffix(".png.error").write_text(repr(exc), encoding="utf-8")
    try:
        stem.with_suffix(".txt").write_text(visitor.describe(), encoding="utf-8")
    except Exception as exc:  # noqa: BLE001
        stem.with_suffix(".txt").write_text(f"could not describe visitor: {exc!r}", encoding="utf-8")
