"""The banner: its variants per regime, the settings page and cookie statement, in the visitor's language.

Templates, CSS, JS and translations come from the design card's ``banner_assets/`` directory.
"""

from __future__ import annotations

from ._i18n import DEFAULT_LANGUAGE as DEFAULT_LANGUAGE
from ._i18n import LANGUAGE_NAMES as LANGUAGE_NAMES
from ._i18n import Translations as Translations
from ._renderer import LANGUAGE_COOKIE as LANGUAGE_COOKIE
from ._renderer import BannerRenderer as BannerRenderer

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGE_COOKIE", "LANGUAGE_NAMES", "BannerRenderer", "Translations"]
