"""The gateway's runtime: the services built once per process from a :class:`Config`."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from ._cache import BoundedCache
from ._config import Config
from ._counters import Counters
from ._decisions import DecisionCache
from ._diagnostics import Diagnostics
from ._errors import OnceLogger
from ._geo import GeoResolver
from ._leaks import LeakReports
from ._limits import per_minute
from ._sightings import classified_by
from ._site_vendors import SiteUsage, SiteVendors
from ._visitor import TrustedProxies
from .banner._renderer import BannerRenderer
from .policy._catalog import TagRegistry
from .policy._consent import ConsentCodec
from .policy._consent_mode import ConsentModeClassifier, classifier_for
from .policy._cookie_database import site_database
from .policy._csp import CspBuilder
from .policy._decision import Permissions
from .policy._jurisdiction import Jurisdiction
from .policy._site import SiteHosts, request_host
from .rewrite import Settings
from .store import DecisionStore, open_store

T = TypeVar("T")


class Gateway:
    """Everything built once per process: codec, geo reader, regime table, registry, renderer, store."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.prefix = config.prefix
        self.codec = ConsentCodec(
            config.secret_keys, policy_revision=config.policy_revision, max_age=config.consent_max_age
        )
        #: The consent cookie's name as sent (``__Host-`` prefixed where it can be) and its older name, still read.
        self.consent_cookie = config.consent_cookie
        self.legacy_consent_cookie = config.legacy_consent_cookie
        self.trusted = TrustedProxies(config.trusted_proxies)
        self.geo = GeoResolver(config.geoip_database)
        self.decisions = DecisionCache(self.geo)
        self.jurisdiction = Jurisdiction(config.regimes)
        self.registry = TagRegistry.builtin(config.tags, cookie_database=site_database(config.cookie_database))
        #: The hosts that are the site's own on every request (``cookie_domain``, ``csp_allow``).
        self.site = SiteHosts.of(config.cookie_domain, config.csp_allow)
        #: The rewriter's settings per (permissions, Host header): see :meth:`settings_for`.
        self._settings: BoundedCache[tuple[Permissions, str | None], Settings] = BoundedCache(256)
        #: Vendor id -> category: what lets a visitor's choice of a vendor by name count in the decision.
        self.vendor_categories = {vendor.id: vendor.category for vendor in self.registry.vendors}
        #: Fired/blocked counts per tag × country × regime and consent outcomes, flushed to the store.
        self.counters = Counters()
        #: What the site uses: its own tags and the vendors seen on its pages (the statement and settings list it).
        self.site_vendors = SiteVendors(self.registry, config.tags, self.counters.pending)
        self.renderer = BannerRenderer(
            prefix=config.prefix,
            vendors=self.registry.vendors,
            texts=config.banner_texts,
            consent_mode=config.consent_mode,
            usage=self._usage,
            policy_revision=config.policy_revision,
            position=config.banner_position,
            templates_dir=config.templates_dir,
            page_stylesheets=config.page_stylesheets,
            # An enforced CSP refuses a refused vendor's host: loading an embed once in the page cannot work.
            load_once=config.csp_mode != "enforce",
        )
        #: What the rewriter and the CSP classify with: the registry, or its Consent Mode "advanced" view.
        self.classifier: TagRegistry | ConsentModeClassifier = classifier_for(self.registry, config.consent_mode)
        listing = self.registry.csp
        self.csp = CspBuilder(
            allow=config.csp_allow,
            report_uri=config.prefix + "csp-report",
            hosts_for=self.classifier.hosts_for_categories,
            version=lambda: listing.version,
        )
        self.store: DecisionStore = open_store(config.log_url, spool_dir=config.log_spool_dir)
        self.store_ready = False
        #: True until the first HTTP request: it shows the scheme pages are served with, and a server that
        #: sends no lifespan events starts the gateway then.
        self.first_request = True
        #: Defaults that fail silently here, said at start-up, in check-config and in health.
        self.diagnostics = Diagnostics(config)
        #: Whether a host is claimed (registry, catalogue, the site's own): what is left is unclassified.
        self.claims_host = classified_by(config, self.registry)
        #: Closes the store's connections if this gateway is dropped without a shutdown (set once started).
        self._closer: weakref.finalize[Any, Any] | None = None
        self.errors = OnceLogger()
        #: Consent writes per client and minute (None: no limit); what it refused shows on the health endpoint.
        self.consent_limiter = per_minute(config.consent_writes_per_minute)
        #: CSP violation reports, summarised per blocked host (bounded), and how often one client may send one.
        self.leaks = LeakReports()
        self.report_limiter = per_minute(config.csp_reports_per_minute)

    def settings_for(self, permissions: Permissions, host_header: str | None) -> Settings:
        """What the rewriter (and the headers' URLs) decide with for ``permissions`` on a request whose ``Host``
        header is ``host_header``: the same for every page of those, so made once (a function of the key alone)."""
        key = (permissions, host_header)
        found = self._settings.get(key)
        if found is None:
            settings = Settings(self.classifier, permissions, site=self.site, host=request_host(host_header))
            found = self._settings.put(key, settings)
        return found

    def _usage(self) -> SiteUsage:
        return self.site_vendors.usage

    async def first_seen(self, scope: Any) -> None:
        """The first HTTP request: check what it shows, and start the gateway if no lifespan event did (daphne
        sends none)."""
        self.first_request = False
        self.diagnostics.first_request(scope)
        if not self.store_ready:
            await self.startup()

    async def startup(self) -> None:
        """Open the decision log (create or migrate its schema); from now on, counters are flushed every
        minute and at the process's exit, lifespan events or not."""
        self.diagnostics.log_startup()
        if self.store_ready:
            return
        close_now = getattr(self.store, "close_now", None)
        if close_now is not None and self._closer is None:
            # Before opening: a failed open can leave a connection behind too.
            self._closer = weakref.finalize(self, close_now)
        try:
            await self.store.open()
            self.store_ready = True
            self.counters.start(self.store, 60.0)
            self.site_vendors.start(self.store, 15.0)
        except Exception:
            self.errors.error("store-open", "cookiegate: could not open the decision log")
            return
        _RUNNING.add(self)

    async def shutdown(self) -> None:
        """Flush the counters, close the decision log and the geo reader."""
        await self.site_vendors.stop()
        _RUNNING.discard(self)
        try:
            if self.store_ready:
                await self.counters.stop(self.store)
        except Exception:
            self.errors.error("counters-flush", "cookiegate: counters could not be flushed at shutdown")
            _RUNNING.add(self)  # the counts were kept: the exit hook tries again through a store of its own
        try:
            await self.store.close()
        finally:
            self.store_ready = False
            if self._closer is not None:
                self._closer.detach()
                self._closer = None
            self.geo.close()

    def flush_at_exit(self) -> None:
        """Flush what was counted since the last flush, through a store of its own (the server's event loop,
        which the gateway's store belongs to, is gone by now). Blocking; for process exit."""
        if not self.counters.pending():
            return
        config = self.config

        async def flush() -> None:
            store = open_store(config.log_url, spool_dir=config.log_spool_dir)
            await store.open()
            try:
                await self.counters.flush(store)
            finally:
                await store.close()

        loop = asyncio.new_event_loop()
        # At exit the thread pools refuse new work, and the store's blocking calls go through one.
        loop.set_default_executor(_InlineExecutor())
        try:
            loop.run_until_complete(flush())
        except Exception:
            logger.warning("cookiegate: counters could not be flushed at exit", exc_info=True)
        finally:
            loop.close()


class _InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs each job at once in the calling thread (at interpreter exit no new thread may start); a
    ThreadPoolExecutor by type only, as asyncio requires of a default executor."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


logger = logging.getLogger("cookiegate")

#: Gateways started and not shut down: their counters are flushed when the process exits.
_RUNNING: weakref.WeakSet[Gateway] = weakref.WeakSet()


@atexit.register
def _flush_running_gateways() -> None:
    # Servers that send no lifespan events (daphne), or stop without them, exit with counts in memory.
    for gateway in list(_RUNNING):
        gateway.flush_at_exit()
