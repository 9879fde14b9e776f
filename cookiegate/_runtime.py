"""The gateway's runtime: the services built once per process from a :class:`Config`."""

from __future__ import annotations

from ._config import Config
from ._counters import Counters
from ._decisions import DecisionCache
from ._errors import OnceLogger
from ._geo import GeoResolver
from ._leaks import LeakReports
from ._limits import per_minute
from ._visitor import TrustedProxies
from .banner._renderer import BannerRenderer
from .policy._catalog import TagRegistry
from .policy._consent import ConsentCodec
from .policy._consent_mode import ConsentModeClassifier
from .policy._cookie_database import site_database
from .policy._csp import CspBuilder
from .policy._jurisdiction import Jurisdiction
from .policy._site import SiteHosts
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
        self.registry = TagRegistry.builtin(config.tags, cookie_database=site_database(config.cookie_database))
        #: The hosts that are the site's own on every request (``cookie_domain``, ``csp_allow``).
        self.site = SiteHosts.of(config.cookie_domain, config.csp_allow)
        self.renderer = BannerRenderer(
            prefix=config.prefix,
            vendors=self.registry.vendors,
            texts=config.banner_texts,
            consent_mode=config.consent_mode,
        )
        #: What the rewriter and the CSP classify with: the registry, or its Consent Mode "advanced" view.
        self.classifier: TagRegistry | ConsentModeClassifier = (
            ConsentModeClassifier(self.registry) if config.consent_mode == "advanced" else self.registry
        )
        listing = self.registry.csp
        self.csp = CspBuilder(
            allow=config.csp_allow,
            report_uri=config.prefix + "csp-report",
            hosts_for=self.classifier.hosts_for_categories,
            version=lambda: listing.version,
        )
        self.store: DecisionStore = open_store(config.log_url, spool_dir=config.log_spool_dir)
        self.store_ready = False
        #: Fired/blocked counts per tag × country × regime and consent outcomes, flushed to the store.
        self.counters = Counters()
        self.errors = OnceLogger()
        #: Consent writes per client and minute (None: no limit); what it refused shows on the health endpoint.
        self.consent_limiter = per_minute(config.consent_writes_per_minute)
        #: CSP violation reports, summarised per blocked host (bounded), and how often one client may send one.
        self.leaks = LeakReports()
        self.report_limiter = per_minute(config.csp_reports_per_minute)

    async def startup(self) -> None:
        """Open the decision log (create or migrate its schema)."""
        if self.store_ready:
            return
        try:
            await self.store.open()
            self.store_ready = True
            self.counters.start(self.store, 60.0)
        except Exception:
            self.errors.error("store-open", "cookiegate: could not open the decision log")

    async def shutdown(self) -> None:
        """Flush the counters, close the decision log and the geo reader."""
        try:
            if self.store_ready:
                await self.counters.stop(self.store)
        except Exception:
            self.errors.error("counters-flush", "cookiegate: counters could not be flushed at shutdown")
        try:
            await self.store.close()
        finally:
            self.geo.close()
