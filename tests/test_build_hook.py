"""The install-time build of the C skip scan (hatch_build.py): built where it compiles, with the compiler and
flags the environment names; a pure-Python install where it does not, said as a build warning (and no stale
build left to shadow the Python scan); a failure only on request."""

from __future__ import annotations

import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("hatchling")

import hatch_build

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _build_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test says what it builds with: none inherits the suite's own install settings."""
    for name in ("COOKIEGATE_NATIVE", "CC", "CFLAGS", "CPPFLAGS", "LDSHARED", "LDFLAGS"):
        monkeypatch.delenv(name, raising=False)


def _hook(root: Path, app: Warnings | None = None) -> hatch_build.ScanBuildHook:
    return hatch_build.ScanBuildHook(str(root), {}, None, None, str(root / "dist"), "wheel",  # type: ignore[arg-type]
                                     app)  # type: ignore[arg-type]


SOURCE = Path("cookiegate") / "rewrite" / "_speedups.c"


def _project(tmp_path: Path) -> Path:
    (tmp_path / SOURCE.parent).mkdir(parents=True)
    (tmp_path / SOURCE).write_bytes((ROOT / SOURCE).read_bytes())
    return tmp_path


class Warnings:
    """Stands in for hatchling's application object: records what the hook warns about."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def display_warning(self, message: str = "", **kwargs: Any) -> None:
        self.said.append(message)


def _broken_compiler(source: Path, target: Path) -> None:
    raise subprocess.CalledProcessError(1, ["cc"])


def test_a_wheel_carries_the_compiled_scan_where_it_compiles(tmp_path: Path) -> None:
    hook = _hook(_project(tmp_path))
    build_data: dict[str, Any] = {"force_include": {}}
    hook.initialize("standard", build_data)
    try:
        assert build_data["pure_python"] is False and build_data["infer_tag"] is True
        [(built, inside)] = build_data["force_include"].items()
        assert Path(built).exists() and inside.startswith("cookiegate/rewrite/_speedups.")
    finally:
        hook.finalize("standard", build_data, "")
    assert not Path(built).exists()  # the temporary build directory is gone


def test_without_a_compiler_the_wheel_stays_pure_python_and_the_build_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hatch_build, "compile_scan", _broken_compiler)
    build_data: dict[str, Any] = {"force_include": {}}
    app = Warnings()
    _hook(_project(tmp_path), app).initialize("standard", build_data)
    assert build_data == {"force_include": {}}
    assert len(app.said) == 1 and "pure-Python scan will run" in app.said[0]


def test_a_compiler_named_by_cc_that_does_not_exist_is_the_one_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    build_data: dict[str, Any] = {"force_include": {}}
    app = Warnings()
    _hook(_project(tmp_path), app).initialize("standard", build_data)
    assert build_data == {"force_include": {}}
    assert "no-such-cc" in app.said[0]


def test_the_compiler_and_flags_come_from_the_environment_as_setuptools_takes_them() -> None:
    source, obj, target = Path("s.c"), Path("s.o"), Path("s.so")
    environ = {"CC": "clang -m64", "CFLAGS": "-O1 -fsanitize=address", "CPPFLAGS": "-DX=1", "LDFLAGS": "-L/opt/lib"}
    compile_, link = hatch_build.compiler_commands(source, obj, target, environ)
    assert compile_[:2] == ["clang", "-m64"] and compile_[-7:-4] == ["-DX=1", "-O1", "-fsanitize=address"]
    assert link[:2] == ["clang", "-m64"]  # the chosen compiler links too
    assert "-fsanitize=address" in link and link[-3:] == ["-L/opt/lib", "-o", "s.so"]
    _, link = hatch_build.compiler_commands(source, obj, target, {"LDSHARED": "ld.lld -shared"})
    assert link[:2] == ["ld.lld", "-shared"]
    default_compile, _ = hatch_build.compiler_commands(source, obj, target, {})
    assert default_compile[0] == str(sysconfig.get_config_var("CC") or "cc").split()[0]


def test_a_compile_with_the_environments_flags_builds_a_module_that_loads(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CFLAGS", "-O0 -DCOOKIEGATE_TEST_FLAG=1")
    target = tmp_path / ("_speedups" + str(sysconfig.get_config_var("EXT_SUFFIX")))
    hatch_build.compile_scan(ROOT / SOURCE, target)
    assert target.stat().st_size > 0


def test_an_editable_install_that_cannot_compile_removes_an_older_build(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    stale = root / SOURCE.parent / ("_speedups" + str(sysconfig.get_config_var("EXT_SUFFIX")))
    stale.write_bytes(b"an older build")
    monkeypatch.setattr(hatch_build, "compile_scan", _broken_compiler)
    _hook(root, Warnings()).initialize("editable", {"force_include": {}})
    assert not stale.exists()


def test_an_editable_install_told_to_skip_removes_an_older_build(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    stale = root / SOURCE.parent / ("_speedups" + str(sysconfig.get_config_var("EXT_SUFFIX")))
    stale.write_bytes(b"an older build")
    monkeypatch.setenv("COOKIEGATE_NATIVE", "skip")
    _hook(root).initialize("editable", {"force_include": {}})
    assert not stale.exists()


def test_native_require_turns_a_failed_compile_into_a_failed_build(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hatch_build, "compile_scan", _broken_compiler)
    monkeypatch.setenv("COOKIEGATE_NATIVE", "require")
    with pytest.raises(subprocess.CalledProcessError):
        _hook(_project(tmp_path)).initialize("standard", {"force_include": {}})


def test_native_skip_does_not_try(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hatch_build, "compile_scan", _broken_compiler)
    monkeypatch.setenv("COOKIEGATE_NATIVE", "skip")
    build_data: dict[str, Any] = {"force_include": {}}
    _hook(_project(tmp_path)).initialize("standard", build_data)
    assert build_data == {"force_include": {}}
