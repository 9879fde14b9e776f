"""Build hook: compile the rewriter's optional C speedup (``cookiegate/rewrite/_speedups.c``) into the wheel.

The speedup is not a requirement: where no C compiler or Python headers exist the build says so (as a build
warning, which ``pip install -v``, ``python -m build`` and ``hatch build`` show) and the wheel stays pure
Python; the rewriter then runs the Python specification of the same scan, with identical output.
``COOKIEGATE_NATIVE=require`` turns a failed compile into a failed build, ``COOKIEGATE_NATIVE=skip`` does not
try.

Why a few lines of subprocess instead of setuptools: the project builds with hatchling, the module is one C
file with no dependencies, and the compiler is chosen as setuptools chooses it: ``sysconfig``'s ``CC`` and
``LDSHARED``, each overridden by the environment variable of the same name, with ``CFLAGS``, ``CPPFLAGS`` and
``LDFLAGS`` from the environment added. For an editable install the module is written next to its source.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

_PACKAGE = Path("cookiegate") / "rewrite"
_SOURCE = _PACKAGE / "_speedups.c"


def compiler_commands(source: Path, obj: Path, target: Path,
                      environ: Mapping[str, str] = os.environ) -> tuple[list[str], list[str]]:
    """The compile and link commands for ``source``, as setuptools' ``customize_compiler`` builds them."""
    config = sysconfig.get_config_vars()
    default_cc = str(config.get("CC") or "cc")
    cc = environ.get("CC") or default_cc
    ldshared = str(config.get("LDSHARED") or f"{default_cc} -shared")
    if environ.get("LDSHARED"):
        ldshared = environ["LDSHARED"]
    elif environ.get("CC") and ldshared.startswith(default_cc):
        ldshared = cc + ldshared[len(default_cc) :]  # the chosen compiler links too
    cflags = shlex.split(environ.get("CPPFLAGS", "")) + shlex.split(environ.get("CFLAGS", ""))
    ldflags = shlex.split(environ.get("LDFLAGS", ""))
    ccshared = shlex.split(str(config.get("CCSHARED") or "-fPIC"))
    include = sysconfig.get_paths()["include"]
    # -O2 and warnings, then the environment's flags (later flags win); the interpreter's own CFLAGS may name
    # tools (profiling, LTO) that are not installed here.
    compile_ = [*shlex.split(cc), *ccshared, "-O2", "-std=c99", "-Wall", "-Wextra", f"-I{include}", *cflags,
                "-c", str(source), "-o", str(obj)]
    link = [*shlex.split(ldshared), *cflags, str(obj), *ldflags, "-o", str(target)]
    return compile_, link


def compile_scan(source: Path, target: Path) -> None:
    """Compile and link ``source`` into the extension module ``target`` (raises on failure)."""
    with tempfile.TemporaryDirectory(prefix="cookiegate-speedups-") as tmp:
        compile_, link = compiler_commands(source, Path(tmp) / "_speedups.o", target)
        for command in (compile_, link):
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise subprocess.CalledProcessError(done.returncode, command, done.stdout, done.stderr)


class ScanBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds ``cookiegate/rewrite/_speedups<EXT_SUFFIX>`` to the wheel when it compiles."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        mode = os.environ.get("COOKIEGATE_NATIVE", "auto")
        root = Path(self.root)
        name = "_speedups" + str(sysconfig.get_config_var("EXT_SUFFIX") or ".so")
        in_tree = root / _PACKAGE / name
        if mode == "skip":
            if version == "editable":
                in_tree.unlink(missing_ok=True)  # an older build would be imported instead of the Python scan
            return
        if version == "editable":
            target = in_tree
        else:
            self._tmp = tempfile.mkdtemp(prefix="cookiegate-wheel-")
            target = Path(self._tmp) / name
        try:
            compile_scan(root / _SOURCE, target)
        except (OSError, subprocess.CalledProcessError) as exc:
            if mode == "require":
                raise
            if version == "editable":
                target.unlink(missing_ok=True)
            detail = getattr(exc, "stderr", None) or str(exc)
            self.app.display_warning(
                f"cookiegate: the C skip scan did not compile, so the pure-Python scan will run (same output, "
                f"slower). Set CC/CFLAGS to choose the compiler, or COOKIEGATE_NATIVE=require to fail instead.\n"
                f"{detail.strip()}"
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(target)] = f"{_PACKAGE.as_posix()}/{name}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
