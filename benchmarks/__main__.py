"""Run every ``benchmarks/bench_*.py`` side by side with the peers and write the figures page.

    python -m benchmarks                 # full run -> docs/benchmarks.md + docs/img/*.png
    python -m benchmarks --quick         # CI smoke run -> build/benchmarks/benchmarks.md
    python -m benchmarks --only validate --only stream
    python -m benchmarks --peers-python /path/to/.venv-peers/bin/python

Each benchmark runs in its own process (``--json``, plus ``--quick``), with this interpreter
and the peers' site-packages appended to its path, so toolwire's extras and the peers import
in one process; a shared package resolves to this interpreter's copy (the page lists any
version that differs). A benchmark that fails, hangs or prints no JSON is reported on the page
and makes the exit status 1; targets missed never do (CI checks that benchmarks run, never
their timings). See ``benchmarks/README.md`` for the JSON each benchmark prints.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_PEERS = ROOT / ".venv-peers" / "bin" / "python"
MAIN_PACKAGES = [
    "toolwire",
    "orjson",
    "jsonschema-rs",
    "pydantic",
    "json-repair",
    "fastapi",
    "uvicorn",
    "grpcio",
    "mcp",
    "redis",
    "aiohttp",
    "sqlglot",
    "matplotlib",
]
PEER_PACKAGES = [
    "langchain-core",
    "langgraph",
    "langgraph-prebuilt",
    "openai-agents",
    "pydantic-ai-slim",
    "mcp",
    "partial-json-parser",
    "jiter",
    "openai",
]

# Runs inside the benchmark's process: append the peers' site-packages (after ours, .pth
# files included), then run the benchmark module as ``__main__``.
_BOOT = """
import os, runpy, site, sys
for path in filter(None, os.environ.get("TOOLWIRE_BENCH_PEERS_SITE", "").split(os.pathsep)):
    site.addsitedir(path)
module = sys.argv[1]
sys.argv = [module, *sys.argv[2:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def discover(only: list[str]) -> list[str]:
    names = sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))
    if not only:
        return names
    wanted = {o if o.startswith("bench_") else f"bench_{o}" for o in only}
    unknown = wanted - set(names)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; have: {names}")
    return [n for n in names if n in wanted]


def peers_site(peers_python: Path | None) -> tuple[list[str], str]:
    """The peers venv's site-packages, and a note when there is none."""
    if peers_python is None or not peers_python.exists():
        return [], (
            f"peers venv not found ({peers_python}); peers are skipped. Create it: python -m venv"
            " .venv-peers && .venv-peers/bin/pip install -e . -r benchmarks/requirements-peers.txt"
        )
    out = subprocess.run(
        [str(peers_python), "-c", "import json, site; print(json.dumps(site.getsitepackages()))"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return [p for p in json.loads(out.stdout) if Path(p).is_dir()], ""
    except ValueError:
        return [], f"could not ask {peers_python} for its site-packages: {out.stderr[-200:]}"


def _versions(names: list[str], path: list[str] | None = None) -> dict[str, str]:
    found: dict[str, str] = {}
    wanted = {n.lower().replace("_", "-") for n in names}
    dists = metadata.distributions(path=path) if path else metadata.distributions()
    for dist in dists:
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name in wanted and name not in found:
            found[name] = dist.version
    return found


def machine(peers: list[str], quick: bool) -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    mem = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    main = _versions(MAIN_PACKAGES)
    peer_versions = _versions(PEER_PACKAGES, peers) if peers else {}
    shadowed = {
        k: f"{v} (peers pin {peer_versions[k]})"
        for k, v in main.items()
        if k in peer_versions and peer_versions[k] != v
    }
    info: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "mode": "quick (indicative only)" if quick else "full",
        "CPU": cpu,
        "cores": f"{os.cpu_count()} (usable: {len(os.sched_getaffinity(0))})",
        "RAM": mem,
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "OS": platform.platform(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "commit": commit,
        "toolwire and its dependencies": main,
        "peers (from the peers venv)": peer_versions,
    }
    if shadowed:
        info["peer pins shadowed by this venv's copy"] = shadowed
    return info


def run_one(
    name: str, *, quick: bool, python: str, peers: list[str], timeout: float
) -> dict[str, Any]:
    """Run one benchmark, echoing its output, and collect the JSON object it prints last."""
    args = ["--json", *(["--quick"] if quick else [])]
    cmd = [python, "-c", _BOOT, f"benchmarks.{name}", *args]
    env = dict(os.environ, TOOLWIRE_BENCH_PEERS_SITE=os.pathsep.join(peers), PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    print(f"\n=== {name} ({'quick' if quick else 'full'}) ===", flush=True)
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: a timeout ends its children too
    )
    out_lines: list[str] = []
    err_lines: list[str] = []

    def pump(stream: Any, sink: list[str], echo: bool) -> None:
        for line in stream:
            sink.append(line)
            if echo and not line.lstrip().startswith("{"):  # the JSON line is kept, not shown
                sys.stdout.write(line)
                sys.stdout.flush()

    readers = [
        threading.Thread(target=pump, args=(proc.stdout, out_lines, True), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, err_lines, False), daemon=True),
    ]
    for t in readers:
        t.start()
    status = "ok"
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        status = f"timed out after {timeout:.0f} s"
    for t in readers:
        t.join(timeout=10)
    seconds = time.monotonic() - start
    err = "".join(err_lines)
    lines = [ln for ln in "".join(out_lines).splitlines() if ln.strip()]
    data: Any = None
    if lines:
        try:
            data = json.loads(lines[-1])
        except ValueError:
            data = None
    if status == "ok" and proc.returncode != 0:
        status = f"exited with status {proc.returncode}"
    if status == "ok" and not isinstance(data, dict):
        status = "printed no JSON object as its last line"
    if status != "ok":
        sys.stderr.write(err[-4000:])
        print(f"!!! {name}: {status}", flush=True)
    reproduce = f"python -m benchmarks --only {name.removeprefix('bench_')}"
    return {
        "name": name,
        "status": status,
        "seconds": seconds,
        "quick": quick,
        "data": data if isinstance(data, dict) else None,
        "stderr_tail": err[-1500:] if status != "ok" else "",
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"),
        "interpreter": Path(python).name + (" + peers" if peers else ""),
        "command": reproduce + (" --quick" if quick else ""),
    }


def write_page(runs: list[dict[str, Any]], info: dict[str, Any], page: Path) -> None:
    from benchmarks._report import bench_block, machine_block, merge

    img = page.parent / "img"
    blocks = {run["name"]: bench_block(run, img, page) for run in runs}
    existing = page.read_text(encoding="utf-8") if page.exists() else None
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(merge(existing, machine_block(info), blocks), encoding="utf-8")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="short runs (CI: do they still run?)")
    p.add_argument("--only", action="append", default=[], metavar="NAME", help="e.g. validate")
    p.add_argument(
        "--peers-python",
        type=Path,
        default=Path(os.environ.get("TOOLWIRE_PEERS_PYTHON", DEFAULT_PEERS)),
        help=f"the peers venv's interpreter (default {DEFAULT_PEERS.relative_to(ROOT)})",
    )
    p.add_argument("--no-peers", action="store_true", help="measure toolwire alone")
    p.add_argument("--out", type=Path, help="the page to write (default: see above)")
    p.add_argument("--no-write", action="store_true", help="print only; write no page")
    p.add_argument("--timeout", type=float, help="seconds per benchmark (300 quick, 1800 full)")
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = discover(args.only)
    if args.list:
        print("\n".join(names))
        return 0
    peers, note = (
        ([], "peers disabled (--no-peers)") if args.no_peers else peers_site(args.peers_python)
    )
    if note:
        print(f"note: {note}", flush=True)
    info = machine(peers, args.quick)
    if note:
        info["peers note"] = note
    timeout = args.timeout or (300.0 if args.quick else 1800.0)
    runs = [
        run_one(n, quick=args.quick, python=sys.executable, peers=peers, timeout=timeout)
        for n in names
    ]
    page = args.out or (
        ROOT / "build" / "benchmarks" / "benchmarks.md"
        if args.quick
        else ROOT / "docs" / "benchmarks.md"
    )
    if not args.no_write:
        write_page(runs, info, page)
        print(f"\nwrote {page}")
    print("\nsummary:")
    for run in runs:
        print(f"  {run['name']:20} {run['status']:40} {run['seconds']:7.1f} s")
    return 0 if all(r["status"] == "ok" for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
