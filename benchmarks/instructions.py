"""Instructions per call under callgrind: the load-independent check of the per-call ratios.

On a shared, loaded machine wall-clock ratios swing with whatever else runs; the number of
instructions a call executes does not. For each contender this runs the same script twice
under ``valgrind --tool=callgrind`` (N calls and 0 calls after the same warm-up) and divides
the difference by N, so start-up, imports and the warm-up cancel out.

    python -m benchmarks.instructions [--calls N] [--json]

Contenders: the floor (orjson + a direct call), ``Toolbox.call`` on a tool with no policy,
the same with the default stack (timeout + retry + breaker + concurrency, bench_runtime's
``FULL``), the lean ``tool.validate`` + handler rows, and openai-agents' bare
``FunctionTool.on_invoke_tool`` when installed. Not a ``bench_*`` file: the runner does not
start it (callgrind runs ~50x slower than the machine; a run takes a few minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

WARM_UP = 300
# Address-space randomization moves objects, so hash-by-address tables probe differently from
# run to run: ~500 instructions per call of noise, gone with it off (setarch, util-linux).
_NO_ASLR = ["setarch", os.uname().machine, "-R"] if shutil.which("setarch") else []


def _contender(name: str) -> Callable[[], Awaitable[Any]]:
    from benchmarks import bench_runtime, bench_validate

    if name == "floor":
        return bench_validate.floor()
    if name == "box_call":
        return bench_validate.ours_box_call()
    if name == "lean":
        return bench_validate.ours_lean()
    if name == "openai_agents":
        return bench_validate.peer_openai_agents()
    if name == "runtime_bare":
        return bench_runtime.bare(False)
    if name == "runtime_no_policy":
        return bench_runtime.ours(None, False)
    if name == "runtime_full_stack":
        return bench_runtime.ours(bench_runtime.FULL, False)
    raise SystemExit(f"unknown contender {name}")


CONTENDERS = (
    "floor",
    "box_call",
    "lean",
    "openai_agents",
    "runtime_bare",
    "runtime_no_policy",
    "runtime_full_stack",
)


def _child(name: str, calls: int) -> None:
    call = _contender(name)

    async def go() -> None:
        for _ in range(WARM_UP):
            await call()
        for _ in range(calls):
            await call()

    asyncio.run(go())


def _instructions(name: str, calls: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        proc = subprocess.run(
            [
                *_NO_ASLR,
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "benchmarks.instructions",
                "--child",
                name,
                "--calls",
                str(calls),
            ],
            capture_output=True,
            text=True,
            check=True,
            # A fixed hash seed: with random ones the start-up alone differs by millions of
            # instructions between two runs, which the N-minus-0 difference would count.
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
    for line in proc.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip())
    raise RuntimeError(f"no instruction count for {name}: {proc.stderr[-500:]}")


def per_call(name: str, calls: int) -> float:
    return (_instructions(name, calls) - _instructions(name, 0)) / calls


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--only", action="append", choices=CONTENDERS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.calls)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    names = list(args.only or CONTENDERS)
    if "openai_agents" in names:
        try:
            import agents  # noqa: F401
        except ImportError:
            names.remove("openai_agents")
    counts = {name: per_call(name, args.calls) for name in names}
    for name, count in counts.items():
        print(f"{name:22}{count:10.0f} instructions/call")
    ratios: dict[str, float] = {}
    if "floor" in counts and "box_call" in counts:
        ratios["box_call_vs_floor"] = counts["box_call"] / counts["floor"]
    if "openai_agents" in counts and "box_call" in counts:
        ratios["openai_agents_vs_box_call"] = counts["openai_agents"] / counts["box_call"]
    if "runtime_full_stack" in counts and "runtime_bare" in counts:
        ratios["full_stack_over_bare"] = counts["runtime_full_stack"] - counts["runtime_bare"]
    for key, value in ratios.items():
        print(f"{key}: {value:.2f}")
    if args.json:
        print(json.dumps({"calls": args.calls, "instructions": counts, "ratios": ratios}))


if __name__ == "__main__":
    main()
