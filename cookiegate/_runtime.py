"""The gateway's runtime: the services built once per process from a :class:`Config`."""

from __future__ import annotations

from ._config import Config
from ._counters import Counters
from ._decisions import DecisionCache
from ._errors import OnceLogger
from ._geo import GeoResolver
from ._leaks import LeakReports
from ._limits import per_minute
from ._site_vendors import SiteUsage, SiteVendors
from ._visitor import TrustedProxies
from .banner._renderer import BannerRenderer
from .policy._catalog import TagRegistry
from .policy._consent import ConsentCodec
from .policy._consent_mode import ConsentModeClassifier
from .policy._csp import CspBuilder
from .policy._jurisdiction import Jurisdiction
from .store import DecisionStore, open_store


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
        self.registry = TagRegistry.builtin(config.tags)
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
        self.classifier: TagRegistry | ConsentModeClassifier = (
            ConsentModeClassifier(self.registry) if config.consent_mode == "advanced" else self.registry
        )
        self.csp = CspBuilder(
            allow=config.csp_allow,
            report_uri=config.prefix + "csp-report",
            hosts_for=self.classifier.hosts_for_categories,
        )
        self.store: DecisionStore = open_store(config.log_url, spool_dir=config.log_spool_dir)
        self.store_ready = False
        self.errors = OnceLogger()
        #: Consent writes per client and minute (None: no limit); what it refused shows on the health endpoint.
        self.consent_limiter = per_minute(config.consent_writes_per_minute)
        #: CSP violation reports, summarised per blocked host (bounded), and how often one client may send one.
        self.leaks = LeakReports()
        self.report_limiter = per_minute(config.csp_reports_per_minute)

    def _usage(self) -> SiteUsage:
        return self.site_vendors.usage

    async def startup(self) -> None:
        """Open the decision log (create or migrate its schema)."""
        if self.store_ready:
            return
        try:
            await self.store.open()
            self.store_ready = True
            self.counters.start(self.store, 60.0)
            self.site_vendors.start(self.store, 15.0)
        except Exception:
            self.errors.error("store-open", "cookiegate: could not open the decision log")

    async def shutdown(self) -> None:
        """Flush the counters, close the decision log and the geo reader."""
        await self.site_vendors.stop()
        try:
            if self.store_ready:
                await self.counters.stop(self.store)
        except Exception:
            self.errors.error("counters-flush", "cookiegate: counters could not be flushed at shutdown")
        try:
            await self.store.close()
        finally:
            self.geo.close()
