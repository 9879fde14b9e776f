"""The coarse location of a visitor: country, first-level subdivision, city. Nothing finer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """Where a visitor is, as coarsely as consent rules need.

    Deliberately holds no latitude/longitude, postcode, accuracy radius or IP address, so nothing
    finer can leak into request state, cookies or logs.
    """

    #: ISO 3166-1 alpha-2 country code (``"FR"``), or ``None`` when unknown.
    country: str | None = None
    #: True when the database says the country is an EU member.
    in_eu: bool = False
    #: ISO 3166-2 first-level subdivision (``"US-CA"``, ``"CA-QC"``, ``"DE-BY"``), or ``None``.
    subdivision: str | None = None
    #: City name in English, or ``None``.
    city: str | None = None

    @property
    def known(self) -> bool:
        """True when at least the country is known."""
        return self.country is not None

    @classmethod
    def unknown(cls) -> Location:
        """The location of a visitor we could not place (private IP, not found, no database)."""
        return _UNKNOWN

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view (for the consent endpoint and logs)."""
        return {
            "country": self.country,
            "in_eu": self.in_eu,
            "subdivision": self.subdivision,
            "city": self.city,
        }


_UNKNOWN = Location()
