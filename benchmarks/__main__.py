"""Run every benchmark module of this package (or those named on the command line).

A benchmark is a module (or a subpackage) of ``benchmarks`` with a ``main()`` function; the runner
finds them, so adding one needs no change here.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import benchmarks


def available() -> list[str]:
    found = pkgutil.iter_modules(benchmarks.__path__)
    return sorted(info.name for info in found if not info.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = argv or available()
    unknown = [name for name in names if name not in available()]
    if unknown:
        print(f"unknown benchmark {unknown[0]!r}; available: {', '.join(available())}", file=sys.stderr)
        return 2
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        if not hasattr(module, "main"):
            continue
        print(f"\n=== benchmarks.{name} ===", flush=True)
        started = time.perf_counter()
        module.main()
        print(f"=== {name}: {time.perf_counter() - started:.0f} s ===", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
