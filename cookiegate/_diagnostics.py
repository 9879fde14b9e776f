"""Start-up says what is wrong: defaults that fail silently, each said once as a WARNING naming the key and the
fix, by ``cookiegate check-config`` and in ``/cookiegate/health``.

* no ``geoip_database``: every visitor is unplaced and gets the strictest regime;
* ``cookie_secure = true`` while the first request came over plain HTTP to a host that is not local: the
  browser drops the consent cookie, so the banner returns on every page and every click is logged again;
* the CSP reporting third-party hosts that no registry or catalogue entry claims (the site's own CDN, its
  fonts) from the first reports: what to add to ``csp_allow``, or to the registry.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ._config import Config

logger = logging.getLogger("cookiegate")

#: Hosts the CSP warning names (the first ones reported); later ones are only counted.
CSP_HOSTS_NAMED: Final = 20
_LOCAL_NAMES: Final = ("localhost", "localhost.localdomain")


@dataclass(frozen=True, slots=True)
class ConfigWarning:
    """A default that fails silently here: the key, and what is wrong and what to do."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


def config_warnings(config: Config) -> list[ConfigWarning]:
    """What the configuration alone shows (start-up and ``check-config``)."""
    out = []
    if config.geoip_database is None:
        out.append(
            ConfigWarning(
                "geoip_database",
                "not set: no visitor can be placed, so everyone gets the strictest regime (an opt-in banner "
                "everywhere, nothing optional before consent). Download a City or Country database (MaxMind "
                "GeoLite2 with a free licence key and geoipupdate, or DB-IP City Lite) and set geoip_database = "
                '"/var/lib/GeoIP/GeoLite2-City.mmdb"; see docs/geo.md',
            )
        )
    elif not Path(config.geoip_database).is_file():
        out.append(
            ConfigWarning(
                "geoip_database",
                f"{config.geoip_database!r} is not a file (yet): until it appears every visitor gets the strictest "
                "regime; the gateway opens it by itself once it is there",
            )
        )
    return out


def config_notes(config: Config) -> list[ConfigWarning]:
    """What only the running gateway can see, said ahead by ``check-config``."""
    out = []
    if config.cookie_secure:
        out.append(
            ConfigWarning(
                "cookie_secure",
                "true: the consent cookie is only kept over HTTPS. The gateway warns at the first request that "
                "comes over plain HTTP to a host that is not local",
            )
        )
    if config.csp_mode != "off" and not config.csp_allow:
        out.append(
            ConfigWarning(
                "csp_allow",
                f"empty: the {config.csp_mode} CSP allows the page's own origin and the consented vendors only, "
                "so it reports (or blocks) the site's own CDN and font hosts. The gateway names each such host "
                "from the first reports; add the site's own to csp_allow",
            )
        )
    return out


def _local(host: str) -> bool:
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Diagnostics:
    """The warnings of one running gateway: from its configuration, its first request and its CSP reports."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._warnings: dict[str, ConfigWarning] = {w.key: w for w in config_warnings(config)}
        self._said: set[str] = set()
        #: Reported hosts that no entry claims, in order, with the first page that reported each.
        self._csp_hosts: dict[str, str] = {}
        self._csp_more = 0

    @property
    def warnings(self) -> list[ConfigWarning]:
        """Every warning so far (for ``/cookiegate/health``)."""
        with self._lock:
            return list(self._warnings.values())

    def log_startup(self) -> None:
        """Say the configuration's warnings (once per gateway)."""
        for warning in self.warnings:
            self._say(warning)

    def _say(self, warning: ConfigWarning) -> None:
        if warning.key + warning.message not in self._said:
            self._said.add(warning.key + warning.message)
            logger.warning("cookiegate: %s", warning)

    def _add(self, warning: ConfigWarning) -> None:
        with self._lock:
            self._warnings[warning.key] = warning
        self._say(warning)

    def first_request(self, scope: Mapping[str, Any]) -> None:
        """Check what only a request shows: the scheme pages are served with."""
        if not self.config.cookie_secure or scope.get("scheme", "http") != "http":
            return
        host = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-proto" and value.strip().lower().startswith(b"https"):
                return  # TLS ends at a proxy that says so: the browser sees HTTPS
            if name == b"host":
                host = value.decode("latin-1").strip().lower()
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if not hostname or _local(hostname):
            return
        self._add(
            ConfigWarning(
                "cookie_secure",
                f"true, but the first page was served over plain HTTP to {hostname}: browsers drop Secure cookies "
                "there, so the consent cookie is never kept (the banner returns on every page, every click is "
                "logged again). Serve the site over HTTPS (behind a TLS proxy: X-Forwarded-Proto and uvicorn "
                "--proxy-headers), or set cookie_secure = false on a plain-HTTP test host",
            )
        )

    def csp_report(self, host: str, page: str, claimed: Callable[[str], bool]) -> None:
        """A CSP report for ``host``: if no entry claims it, it is the site's own or an unclassified tracker."""
        if not host or "." not in host or claimed(host):
            return
        with self._lock:
            if host in self._csp_hosts:
                return
            if len(self._csp_hosts) >= CSP_HOSTS_NAMED:
                self._csp_more += 1
                return
            self._csp_hosts[host] = page
            named = ", ".join(f"{h} (on {p or '/'})" for h, p in self._csp_hosts.items())
            more = f" and {self._csp_more} more" if self._csp_more else ""
            sources = ", ".join(f'"https://{h}"' for h in self._csp_hosts)
        self._add(
            ConfigWarning(
                "csp_allow",
                f"the {self.config.csp_mode} CSP reports hosts that no registry or catalogue entry claims: "
                f"{named}{more}. If they are the site's own (a CDN, fonts), add them to csp_allow = [{sources}]; "
                "if one is a tracker, classify it with a [[tags]] entry (hosts, category)",
            )
        )


__all__ = ["CSP_HOSTS_NAMED", "ConfigWarning", "Diagnostics", "config_notes", "config_warnings"]
