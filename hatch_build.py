"""Build hook: compile the rewriter's optional C skip scan (``cookiegate/_scan.c``) into the wheel.

The extension is an accelerator, not a requirement: where no C compiler or Python headers exist the build
says so and the wheel stays pure Python (the rewriter then uses the same scan written as a regular
expression, with identical output). ``COOKIEGATE_NATIVE=require`` turns a failed compile into a failed
build, ``COOKIEGATE_NATIVE=skip`` does not try.

Why a few lines of subprocess instead of setuptools: the project builds with hatchling, the module is one
C file with no dependencies, and the compiler and flags come from ``sysconfig``, as setuptools takes them.
For an editable install the module is written next to its source, where the editable path finds it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

_SOURCE = Path("cookiegate") / "_scan.c"


def compile_scan(source: Path, target: Path) -> None:
    """Compile and link ``source`` into the extension module ``target`` (raises on failure)."""
    config = sysconfig.get_config_vars()
    cc = shlex.split(str(config.get("CC") or "cc"))
    ccshared = shlex.split(str(config.get("CCSHARED") or "-fPIC"))
    ldshared = shlex.split(str(config.get("LDSHARED") or "cc -shared"))
    include = sysconfig.get_paths()["include"]
    with tempfile.TemporaryDirectory(prefix="cookiegate-scan-") as tmp:
        obj = Path(tmp) / "_scan.o"
        # -O2 and warnings only: the interpreter's own CFLAGS may name tools (profiling, LTO) not present here.
        subprocess.run([*cc, *ccshared, "-O2", "-std=c99", "-Wall", "-Wextra", f"-I{include}", "-c",
                        str(source), "-o", str(obj)], check=True)
        subprocess.run([*ldshared, str(obj), "-o", str(target)], check=True)


class ScanBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds ``cookiegate/_scan<EXT_SUFFIX>`` to the wheel when it compiles."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        mode = os.environ.get("COOKIEGATE_NATIVE", "auto")
        if mode == "skip":
            return
        root = Path(self.root)
        name = "_scan" + str(sysconfig.get_config_var("EXT_SUFFIX") or ".so")
        if version == "editable":
            target = root / "cookiegate" / name
        else:
            self._tmp = tempfile.mkdtemp(prefix="cookiegate-wheel-")
            target = Path(self._tmp) / name
        try:
            compile_scan(root / _SOURCE, target)
        except (OSError, subprocess.CalledProcessError) as exc:
            if mode == "require":
                raise
            if version == "editable":
                # An older build left in the source tree would be imported instead of the Python scan.
                target.unlink(missing_ok=True)
            print(f"cookiegate: the C skip scan did not compile ({exc}); using the pure-Python scan",
                  file=sys.stderr)
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(target)] = f"cookiegate/{name}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
