"""The documentation site builds with ``mkdocs build --strict``, and what it says is tied to the code."""

from __future__ import annotations

import dataclasses
import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

import cookiegate

from .test_readme_commands import readme_command

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"



def load_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cookiegate_docs_hook", DOCS / "hooks" / "config_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    # Material prints a notice about its successor on every build; it is not a build warning.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    assert not re.search(r"^(WARNING|ERROR)\b", log, re.MULTILINE), log
    return out


def page_text(site: Path, page: str) -> str:
    return html.unescape((site / page / "index.html").read_text("utf-8"))


class _MkDocsYaml(yaml.SafeLoader):
    """Reads mkdocs.yml, whose ``!relative`` tag only MkDocs resolves."""


_MkDocsYaml.add_constructor("!relative", lambda loader, node: loader.construct_scalar(node))


def test_every_page_in_the_navigation_is_built(site: Path) -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text("utf-8"), Loader=_MkDocsYaml)
    pages = [next(iter(entry.values())) for entry in config["nav"]]
    assert len(pages) == len(list(DOCS.glob("*.md")))
    for page in pages:
        built = site / ("index.html" if page == "index.md" else page.removesuffix(".md") + "/index.html")
        assert built.is_file(), page


def test_the_configuration_page_lists_every_config_field_with_its_type(site: Path) -> None:
    text = (site / "configuration" / "index.html").read_text("utf-8")
    for field in dataclasses.fields(cookiegate.Config):
        heading = re.search(rf'<h3 id="{field.name}">.*?</h3>\s*<p><em>([^<]+)</em>', text, re.DOTALL)
        assert heading is not None, field.name
        assert heading.group(1).strip(), field.name


def test_the_reference_shows_each_fields_own_comment_and_default() -> None:
    hook = load_hook()
    reference = hook.config_reference()
    comments = hook.field_comments(cookiegate.Config)
    for field in dataclasses.fields(cookiegate.Config):
        section = reference.split(f"### `{field.name}`", 1)[1].split("### ", 1)[0]
        if field.name in comments:
            assert hook._markdown(comments[field.name]) in section
        default = field.default_factory() if field.default is dataclasses.MISSING else field.default
        assert f"default `{hook.toml_value(default)}`" in section


def test_every_config_field_has_a_doc_comment() -> None:
    described = set(load_hook().field_comments(cookiegate.Config))
    names = {f.name for f in dataclasses.fields(cookiegate.Config)}
    assert names - described == set()


def test_the_hook_reads_types_as_toml_writes_them() -> None:
    hook = load_hook()
    assert hook.toml_type(tuple[str, ...]) == "array of strings"
    assert hook.toml_type(str | None) == "string, or unset"
    assert hook.toml_value(("a", "b")) == '["a", "b"]' and hook.toml_value(None) == "unset"
    with pytest.raises(TypeError):
        hook.toml_type(float)


def test_getting_started_shows_the_readme_commands_verbatim(site: Path) -> None:
    text = page_text(site, "getting-started")
    assert readme_command("demo-command") in text
    assert readme_command("test-command") in text


def test_the_embedding_page_shows_the_tested_examples_whole(site: Path) -> None:
    raw = (site / "embedding" / "index.html").read_text("utf-8")
    plain = html.unescape(re.sub(r"<[^>]+>", "", raw))
    for example in ("starlette_app.py", "fastapi_app.py", "django_asgi.py", "django_views.py"):
        for line in (DOCS / "examples" / example).read_text("utf-8").splitlines():
            assert line.strip() in plain, (example, line)


def _blocks(markdown: str, language: str) -> list[list[str]]:
    found = re.findall(rf"```{language}\n(.*?)```", markdown, re.DOTALL)
    return [[line.strip() for line in block.splitlines() if line.strip()] for block in found]


def _is_excerpt(lines: list[str], source: list[str]) -> bool:
    remaining = iter(source)
    return all(any(line == candidate for candidate in remaining) for line in lines)


def test_readme_snippets_are_excerpts_of_the_tested_examples() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    sources = [
        [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
        for path in sorted((DOCS / "examples").rglob("*"))
        if path.suffix in (".py", ".html")
    ]
    blocks = _blocks(readme, "python") + _blocks(readme, "jinja")
    assert len(blocks) >= 4
    for block in blocks:
        assert any(_is_excerpt(block, source) for source in sources), block


def test_readme_links_into_docs_resolve() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    targets = re.findall(r"\]\(((?:docs/|CHANGES)[^)#]*)", readme)
    assert targets
    for target in targets:
        assert (ROOT / target).exists(), target


def test_every_toml_example_in_the_docs_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COOKIEGATE_SECRET_KEYS", "docs-example-" + "k" * 40)
    monkeypatch.delenv("COOKIEGATE_CONFIG", raising=False)
    monkeypatch.delenv("COOKIEGATE_ADMIN_TOKEN", raising=False)
    examples = 0
    for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        for i, block in enumerate(re.findall(r"```toml\n(.*?)```", page.read_text("utf-8"), re.DOTALL)):
            # Placeholders for secrets; the real ones come from the environment.
            block = block.replace('admin_token = "…32+ characters…"', f'admin_token = "{"a" * 40}"')
            path = tmp_path / f"{page.stem}-{i}.toml"
            path.write_text(block, "utf-8")
            # A templates directory an example names exists, as it would on the operator's disk.
            for directory in re.findall(r'^\s*templates_dir = "([^"/][^"]*)"', block, re.M):
                (tmp_path / directory).mkdir(parents=True, exist_ok=True)
            try:
                cookiegate.load_config(path)
            except cookiegate.ConfigError as exc:
                pytest.fail(f"{page.name}, TOML example {i + 1}: {exc}")
            examples += 1
    assert examples >= 5
