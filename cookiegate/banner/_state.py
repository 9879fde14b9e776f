"""``window.cookiegate``: the decision as the site's own JavaScript reads it, written into the page.

The state is rendered with the page, right after ``<head>``, so it is correct before any of the site's
scripts runs; the banner's script keeps it current after a choice and sends the events.
"""

from __future__ import annotations

import json
from typing import Any, Final

from .._site_vendors import SiteUsage
from ..policy._categories import CATEGORIES
from ..policy._decision import Decision
from ._choices import gpc_refused

#: Until the banner's script has loaded, ``show()`` and ``showSettings()`` open the settings page. The script is
#: fetched after the first frame (a deferred script would run before it): the page paints with the banner first.
#: So are the rest of the banner's styles where only the first layer's are inline: linked where this script
#: stands, so they cascade as the link a visitor who has chosen gets in the same place.
_API: Final = (
    '<script data-cookiegate-api>(function(w,d,s,p,j,c){var f=[],t=d.currentScript;'
    'd.documentElement.setAttribute("data-cookiegate-js","");'
    "function g(){w.location.href=p+'settings?next='+encodeURIComponent(w.location.pathname+w.location.search)}"
    "function a(e){e.setAttribute('data-cookiegate','');t&&t.parentNode?t.parentNode.insertBefore(e,t):"
    "d.head.appendChild(e)}"
    "w.cookiegate={allowed:function(x){return x in s.categories?s.categories[x]:!!s.vendors[x]},"
    "choice:function(){return JSON.parse(JSON.stringify(s))},show:g,showSettings:g,"
    "onChange:function(c){f.push(c)},_set:function(n){s=n},_f:f,_p:p};"
    "(j||c)&&w.requestAnimationFrame(function(){setTimeout(function(){var e;"
    "if(c){e=d.createElement('link');e.rel='stylesheet';e.href=c;a(e)}"
    "if(j){e=d.createElement('script');e.src=j;a(e)}})})})(window,document,"
)


def client_state(decision: Decision, usage: SiteUsage, policy_revision: str) -> dict[str, Any]:
    """What ``cookiegate.choice()`` answers and the events carry, derived from ``decision`` alone.

    ``vendors`` covers the vendors the site uses (its own tags and those seen on its pages)."""
    return {
        "categories": {c: decision.allows(c) for c in CATEGORIES},
        "vendors": {u.vendor.id: decision.allows_vendor(u.vendor.id, u.vendor.category) for u in usage.vendors},
        "regime": decision.regime.kind,
        "policyRevision": policy_revision,
        "gpc": bool(gpc_refused(decision)),
        "chosen": decision.choice is not None,
    }


def script_json(data: object) -> str:
    """``data`` as JSON that cannot end the ``<script>`` it is written into."""
    text = json.dumps(data, separators=(",", ":"), sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def api_script(state: dict[str, Any], prefix: str, script_url: str, styles_url: str = "") -> str:
    """The inline script that defines ``window.cookiegate`` with ``state`` and then, after the first frame, loads
    the banner's styles from ``styles_url`` and its script from ``script_url`` (each: none when empty)."""
    args = ",".join(script_json(v) for v in (state, prefix, script_url, styles_url))
    return _API + args + ")</script>"
