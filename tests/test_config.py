from __future__ import annotations

from pathlib import Path

import pytest

from cookiegate._config import Config, ConfigError, load_config

KEY = "k" * 40


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cookiegate.toml"
    path.write_text(text, "utf-8")
    return path


def test_full_config_file_loads_with_every_documented_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
secret_keys = ["{"o" * 40}", "{KEY}"]
geoip_database = "geo.mmdb"
trusted_proxies = ["10.0.0.0/8", "::1"]
cookie_domain = "kactuce.com"
cookie_secure = false
policy_revision = "2026-11"
log_url = "sqlite:///var/cookiegate.db"
[regimes]
"US-VA" = "opt-out"
JP = "opt-in"
[[tags]]
id = "kactuce-heatmap"
vendor = "Kactuce heatmap"
category = "analytics"
src = ["/static/js/heatmap.js"]
inline = ["kactuceHeatmap\\\\("]
cookies = ["_khm*"]
""",
    )
    cfg = load_config(path)
    assert cfg.secret_keys == ("o" * 40, KEY)
    assert cfg.geoip_database == str((tmp_path / "geo.mmdb").resolve())
    assert cfg.cookie_domain == "kactuce.com" and cfg.cookie_secure is False
    assert cfg.policy_revision == "2026-11"
    assert cfg.regimes == {"US-VA": "opt-out", "JP": "opt-in"}
    (tag,) = cfg.tags
    assert tag.id == "kactuce-heatmap" and tag.category == "analytics"
    assert tag.url_patterns == ("/static/js/heatmap.js",) and tag.cookies == ("_khm*",)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (f'secret_keys = ["{KEY}"]\nsecret_key = "x"', "secret_key"),
        (f'secret_keys = ["{KEY}"]\ncookie_secure = "yes"', "cookie_secure"),
        (f'secret_keys = ["{KEY}"]\ntrusted_proxies = ["10.0.0.0/33"]', "trusted_proxies"),
        (f'secret_keys = ["{KEY}"]\nlog_url = "mysql://x"', "log_url"),
        (f'secret_keys = ["{KEY}"]\n[regimes]\nFR = "maybe"', "regimes.FR"),
        (
            f'secret_keys = ["{KEY}"]\n[[tags]]\nid = "x"\ncategory = "necessary"\nhosts = ["a.example"]',
            "tags.x.category",
        ),
        (f'secret_keys = ["{KEY}"]\n[[tags]]\nid = "x"\ncategory = "ads"', "tags.x"),
        (f'secret_keys = ["{KEY}"]\n[[tags]]\nid = "x"\ncategory = "ads"\nhosts = ["a.example"]\ncolour = 1', "colour"),
        (f'secret_keys = ["{KEY}"]\n[[tags]]\nid = "x"\ncategory = "ads"\ninline = ["("]', "tags.x.inline"),
        (f'secret_keys = ["{KEY}"]\nprefix = "cookiegate"', "prefix"),
        (f'secret_keys = ["{KEY}"]\ncookie_domain = "Kactuce.com/evil"', "cookie_domain"),
    ],
)
def test_unknown_keys_and_bad_values_stop_startup_naming_the_key(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert named in str(err.value)


@pytest.mark.parametrize("keys", [[], ["change-me"], ["short"]])
def test_outside_demo_mode_a_missing_or_default_secret_is_refused(
    tmp_path: Path, keys: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COOKIEGATE_SECRET_KEYS", raising=False)
    path = write(tmp_path, f"secret_keys = {keys!r}".replace("'", '"'))
    with pytest.raises(ConfigError, match="secret_keys"):
        load_config(path)


def test_demo_mode_makes_an_ephemeral_secret_and_uses_the_bundled_geo_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COOKIEGATE_CONFIG", raising=False)
    monkeypatch.delenv("COOKIEGATE_SECRET_KEYS", raising=False)
    first, second = load_config(demo=True), load_config(demo=True)
    assert first.demo_mode and first.secret_keys != second.secret_keys
    assert first.geoip_database is not None and Path(first.geoip_database).is_file()
    assert first.cookie_secure is False


def test_secret_keys_come_from_the_environment_oldest_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COOKIEGATE_CONFIG", raising=False)
    monkeypatch.setenv("COOKIEGATE_SECRET_KEYS", f"{'a' * 40}, {'b' * 40}")
    assert load_config().secret_keys == ("a" * 40, "b" * 40)


def test_config_file_is_found_via_env_then_current_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "cookiegate.toml").write_text(f'secret_keys = ["{KEY}"]\npolicy_revision = "local"')
    other = tmp_path / "other.toml"
    other.write_text(f'secret_keys = ["{KEY}"]\npolicy_revision = "env"')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COOKIEGATE_SECRET_KEYS", raising=False)
    monkeypatch.delenv("COOKIEGATE_CONFIG", raising=False)
    assert load_config().policy_revision == "local"
    monkeypatch.setenv("COOKIEGATE_CONFIG", str(other))
    assert load_config().policy_revision == "env"


def test_secrets_never_appear_in_repr() -> None:
    cfg = Config(secret_keys=(KEY,))
    assert KEY not in repr(cfg) and "1 secret keys" in repr(cfg)


def test_config_built_in_python_is_validated_too() -> None:
    with pytest.raises(ConfigError, match="csp_mode"):
        Config(secret_keys=(KEY,), csp_mode="loud")  # type: ignore[arg-type]


@pytest.mark.parametrize("document", ["README.md", "docs/configuration.md"])
def test_the_documented_config_example_loads(document: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (Path(__file__).resolve().parent.parent / document).read_text("utf-8")
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    # The example's secrets are placeholders; real ones come from the environment here.
    example = example.replace('admin_token = "…32+ characters…"', f'admin_token = "{"a" * 40}"')
    monkeypatch.setenv("COOKIEGATE_SECRET_KEYS", KEY)
    cfg = load_config(write(tmp_path, example))
    assert cfg.cookie_domain == "kactuce.com" and cfg.consent_mode == "basic"
    assert cfg.tags and cfg.tags[0].id == "kactuce-heatmap" and cfg.regimes["US-VA"] == "opt-out"
