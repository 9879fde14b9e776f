"""The install-time build of the C skip scan (hatch_build.py): built where it compiles, a pure-Python
install where it does not (and no stale build left to shadow the Python scan), a failure only on request."""

from __future__ import annotations

import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("hatchling")

import hatch_build

ROOT = Path(__file__).resolve().parent.parent


def _hook(root: Path) -> hatch_build.ScanBuildHook:
    return hatch_build.ScanBuildHook(str(root), {}, None, None, str(root / "dist"), "wheel")  # type: ignore[arg-type]


def _project(tmp_path: Path) -> Path:
    (tmp_path / "cookiegate").mkdir()
    (tmp_path / "cookiegate" / "_scan.c").write_bytes((ROOT / "cookiegate" / "_scan.c").read_bytes())
    return tmp_path


def _broken_compiler(source: Path, target: Path) -> None:
    raise subprocess.CalledProcessError(1, ["cc"])


def test_a_wheel_carries_the_compiled_scan_where_it_compiles(tmp_path: Path) -> None:
    hook = _hook(_project(tmp_path))
    build_data: dict[str, Any] = {"force_include": {}}
    hook.initialize("standard", build_data)
    try:
        assert build_data["pure_python"] is False and build_data["infer_tag"] is True
        [(built, inside)] = build_data["force_include"].items()
        assert Path(built).exists() and inside.startswith("cookiegate/_scan.")
    finally:
        hook.finalize("standard", build_data, "")
    assert not Path(built).exists()  # the temporary build directory is gone


def test_without_a_compiler_the_wheel_stays_pure_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(hatch_build, "compile_scan", _broken_compiler)
    build_data: dict[str, Any] = {"force_include": {}}
    _hook(_project(tmp_path)).initialize("standard", build_data)
    assert build_data == {"force_include": {}}
    assert "using the pure-Python scan" in capsys.readouterr().err


def test_an_editable_install_that_cannot_compile_removes_an_older_build(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    stale = root / "cookiegate" / ("_scan" + str(sysconfig.get_config_var("EXT_SUFFIX")))
    stale.write_bytes(b"an older build")
    monkeypatch.setattr(hatch_build, "compile_scan", _broken_compiler)
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
