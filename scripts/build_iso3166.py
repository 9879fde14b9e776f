"""Rebuild ``cookiegate/policy/iso3166/codes.json`` from the installed ``pycountry`` package.

pycountry (LGPL-2.1) ships Debian's iso-codes tables of ISO 3166-1 (countries), 3166-2 (subdivisions) and
3166-3 (withdrawn codes). cookiegate only needs the codes, a name per country and the successor of each
withdrawn code, so it ships this ~40 kB extract instead of depending on the 8 MB package at run time.

    pip install pycountry && python scripts/build_iso3166.py
"""

from __future__ import annotations

import json
import shutil
import sys
from importlib.metadata import version
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent.parent / "cookiegate" / "policy" / "iso3166"


def main() -> int:
    try:
        import pycountry
    except ImportError:
        print("pip install pycountry first", file=sys.stderr)
        return 2
    databases = Path(pycountry.__file__).parent / "databases"
    countries = json.loads((databases / "iso3166-1.json").read_text("utf-8"))["3166-1"]
    subdivisions = json.loads((databases / "iso3166-2.json").read_text("utf-8"))["3166-2"]
    withdrawn = json.loads((databases / "iso3166-3.json").read_text("utf-8"))["3166-3"]
    current = {c["alpha_2"] for c in countries}
    by_country: dict[str, list[str]] = {}
    for sub in subdivisions:
        country, _, rest = sub["code"].partition("-")
        by_country.setdefault(country, []).append(rest)
    data = {
        "source": f"pycountry {version('pycountry')} (Debian iso-codes), LGPL-2.1-only; see LICENSE",
        "countries": {
            c["alpha_2"]: {"name": c.get("common_name") or c["name"], "alpha_3": c["alpha_3"]}
            for c in sorted(countries, key=lambda c: c["alpha_2"])
        },
        "subdivisions": {k: " ".join(sorted(v)) for k, v in sorted(by_country.items())},
        "withdrawn": {
            # The last two letters of the ISO 3166-3 alpha-4 code name what the country became (HH: divided).
            w["alpha_2"]: {"name": w["name"], "now": w["alpha_4"][2:] if w["alpha_4"][2:] in current else None}
            for w in sorted(withdrawn, key=lambda w: (w["alpha_2"], w.get("withdrawal_date", "")))
            if w["alpha_2"] not in current
        },
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "codes.json").write_text(json.dumps(data, indent=0, ensure_ascii=False) + "\n", "utf-8")
    dist = Path(pycountry.__file__).parent.parent / f"pycountry-{version('pycountry')}.dist-info"
    shutil.copyfile(dist / "licenses" / "LICENSE.txt", OUT_DIR / "LICENSE")
    print(f"wrote {OUT_DIR / 'codes.json'}: {len(data['countries'])} countries, {len(subdivisions)} subdivisions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
