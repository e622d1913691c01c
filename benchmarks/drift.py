"""`watchkeeper drift` on 1,000,000 x 50 (40 numeric, 10 categorical) vs the peers, one run.

Prints one side-by-side table (tool, seconds, peak GB, true drifts flagged, false positives) and
the ratios the issue sets as the bar:
- at least 5x faster than the fastest peer,
- within 1.5x of the floor (read both Parquet files, sort every numeric column once),
- peak memory at most half of the leanest peer,
- every truly drifted feature flagged, fewer false positives than any peer.
Every figure is a whole process (interpreter start, imports, reading Parquet) timed with wait4,
which also gives that process's own peak RSS.

The data has known drift: num_00 mean +0.1 sd; num_01 2% of rows moved 4 sd into the upper tail;
cat_00 3% of rows changed category; cat_01 a new category takes 3% of rows; the other 46 columns
are fresh draws from the reference distribution.

Usage: python benchmarks/drift.py [--rows N] [--peers evidently,nannyml,alibi,frouros | none]
Peers come from benchmarks/.peers-venv (bash benchmarks/peers/setup.sh); a peer that is not
installed is reported as such.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
PEERS_PYTHON = HERE / ".peers-venv" / "bin" / "python"
N_NUMERIC, N_CATEGORICAL = 40, 10
LOAD_AT_START = 0.0
TRULY_DRIFTED = {"num_00", "num_01", "cat_00", "cat_01"}
FLOOR_SCRIPT = """
import sys, numpy as np, pyarrow.parquet as pq, pyarrow.types as t
for path in sys.argv[1:]:
    table = pq.read_table(path)
    for column in table.columns:
        if t.is_floating(column.type) or t.is_integer(column.type):
            np.sort(column.to_numpy())
"""


def _numeric(i: int, rng: np.random.Generator, n: int) -> np.ndarray:
    kind = i % 8
    if kind == 0:
        return rng.normal(10.0 + i, 2.0 + i % 3, n)
    if kind == 1:
        return rng.lognormal(0.0, 0.8, n)
    if kind == 2:
        return rng.exponential(3.0, n)
    if kind == 3:
        return rng.uniform(-5, 5, n)
    if kind == 4:
        return rng.poisson(4.0, n).astype(np.float64)
    if kind == 5:
        return np.where(rng.random(n) < 0.3, rng.normal(-2, 1, n), rng.normal(3, 0.5, n))
    if kind == 6:
        return rng.standard_t(5, n)
    return rng.gamma(2.0, 1.5, n)


def _categories(i: int) -> tuple[list[str], np.ndarray]:
    k = 2 + (i * 7) % 40
    weights = 1.0 / np.arange(1, k + 1) ** 0.8
    return [f"v{j:02d}" for j in range(k)], weights / weights.sum()


def generate(directory: Path, n: int) -> tuple[Path, Path]:
    ref_path, cur_path = directory / f"reference_{n}.parquet", directory / f"current_{n}.parquet"
    if ref_path.exists() and cur_path.exists():
        return ref_path, cur_path
    directory.mkdir(parents=True, exist_ok=True)
    for path, seed, drift in ((ref_path, 1, False), (cur_path, 2, True)):
        rng = np.random.default_rng(seed)
        columns: dict[str, pa.Array] = {}
        for i in range(N_NUMERIC):
            x = _numeric(i, rng, n)
            if drift and i == 0:
                x = x + 0.1 * (2.0 + i % 3)  # +0.1 sd
            if drift and i == 1:
                sd = float(np.sqrt((np.exp(0.64) - 1) * np.exp(0.64)))  # lognormal(0, 0.8)
                moved = rng.random(n) < 0.02
                x = np.where(moved, x + 4 * sd, x)  # 2% of rows 4 sd up the tail
            columns[f"num_{i:02d}"] = pa.array(x)
        for i in range(N_CATEGORICAL):
            names, p = _categories(i)
            if drift and i == 0:
                p = p.copy()
                p[0] -= 0.03
                p[1] += 0.03  # 3% of rows change category
            if drift and i == 1:
                names, p = [*names, "new"], np.append(p * 0.97, 0.03)  # a new category, 3%
            codes = rng.choice(len(names), size=n, p=p)
            columns[f"cat_{i:02d}"] = pa.array(
                np.array(names, dtype=object)[codes], type=pa.string()
            )
        pq.write_table(pa.table(columns), path)
    return ref_path, cur_path


@dataclass
class Run:
    tool: str
    seconds: float | None
    peak_gb: float | None
    flagged: set[str] | None
    note: str = ""
    cpu: float | None = None  # user + system seconds: what the load of a shared machine spares


class Measured(NamedTuple):
    seconds: float
    peak_gb: float
    cpu: float
    code: int
    text: str


def timed(cmd: list[str], timeout: float) -> Measured:
    """Wall seconds, peak RSS, CPU seconds, exit code and stdout of one child process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=out, stderr=err)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                child.kill()
                os.wait4(child.pid, 0)
                return Measured(timeout, float("nan"), float("nan"), -9, "")
            time.sleep(0.01)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if child.returncode != 0:
            text += err.read().decode()[-2000:]
        cpu = usage.ru_utime + usage.ru_stime
        return Measured(seconds, usage.ru_maxrss / 1024**2, cpu, child.returncode, text)


def best_of(runs: int, cmd: list[str]) -> Measured:
    return min((timed(cmd, 600) for _ in range(runs)), key=lambda r: r.seconds)


def run_watchkeeper(ref: Path, cur: Path, runs: int, alone: bool = False) -> Run:
    """`watchkeeper drift` as users run it, or (alone=True) `python -m watchkeeper.cli.drift`:
    the same command without importing the CLI's other command groups."""
    exe = Path(sys.executable).with_name("watchkeeper")
    command = [sys.executable, "-m", "watchkeeper.cli.drift"] if alone else [str(exe), "drift"]
    name = "  drift module alone" if alone else "watchkeeper drift"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "drift.json"
        got = best_of(runs, [*command, str(ref), str(cur), "--format", "json", "--out", str(out)])
        if got.code != 0:
            return Run(name, None, None, None, f"failed: {got.text[-300:]}")
        report = json.loads(out.read_text())
    flagged = {f["name"] for f in report["features"] if f["drifted"]}
    return Run(name, got.seconds, got.peak_gb, flagged, cpu=got.cpu)


def run_peer(tool: str, ref: Path, cur: Path, cats: list[str]) -> Run:
    if not PEERS_PYTHON.exists():
        return Run(tool, None, None, None, "not installed (run benchmarks/peers/setup.sh)")
    got = timed(
        [
            str(PEERS_PYTHON),
            str(HERE / "peers" / "run_peer.py"),
            tool,
            str(ref),
            str(cur),
            ",".join(cats),
        ],
        timeout=1800,
    )
    if got.code != 0:
        return Run(tool, None, None, None, f"failed (exit {got.code}): {got.text.strip()[-200:]}")
    flagged = set(json.loads(got.text.strip().splitlines()[-1])["flagged"])
    return Run(tool, got.seconds, got.peak_gb, flagged, cpu=got.cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=HERE / ".data")
    parser.add_argument(
        "--peers", default="frouros,alibi,nannyml,evidently", help="comma-separated, or 'none'"
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=2,
        help="watchkeeper and the floor run this often; the best is kept",
    )
    args = parser.parse_args()
    global LOAD_AT_START
    LOAD_AT_START = os.getloadavg()[0]

    ref, cur = generate(args.data, args.rows)
    cats = [f"cat_{i:02d}" for i in range(N_CATEGORICAL)]
    got = best_of(args.runs, [sys.executable, "-c", FLOOR_SCRIPT, str(ref), str(cur)])
    floor = Run(
        "floor (read + sort)",
        got.seconds,
        got.peak_gb,
        None,
        "" if got.code == 0 else got.text[-300:],
        cpu=got.cpu,
    )
    ours = run_watchkeeper(ref, cur, args.runs)
    exe = str(Path(sys.executable).with_name("watchkeeper"))
    got = best_of(args.runs, [exe, "version"])
    startup = Run(
        "  CLI start-up",
        got.seconds,
        got.peak_gb,
        None,
        "`watchkeeper version`: interpreter + every command module's imports",
        cpu=got.cpu,
    )
    alone = run_watchkeeper(ref, cur, args.runs, alone=True)
    peers = (
        []
        if args.peers == "none"
        else [run_peer(t.strip(), ref, cur, cats) for t in args.peers.split(",") if t.strip()]
    )

    unchanged = N_NUMERIC + N_CATEGORICAL - len(TRULY_DRIFTED)
    print(
        f"drift on {args.rows:,} x {N_NUMERIC + N_CATEGORICAL} ({N_NUMERIC} numeric, "
        f"{N_CATEGORICAL} categorical); {len(TRULY_DRIFTED)} truly drifted, {unchanged} not; "
        f"{os.cpu_count()} cores; load average at start {LOAD_AT_START:.1f}, at end "
        f"{os.getloadavg()[0]:.1f} (a shared machine slows every row alike)"
    )
    print(
        f"{'tool':<22}{'seconds':>9}{'CPU s':>8}{'peak GB':>9}{'true drifts':>13}"
        f"{'false pos.':>12}  note"
    )
    for r in [floor, ours, startup, alone, *peers]:
        true = (
            f"{len(r.flagged & TRULY_DRIFTED)}/{len(TRULY_DRIFTED)}"
            if r.flagged is not None
            else "-"
        )
        false = str(len(r.flagged - TRULY_DRIFTED)) if r.flagged is not None else "-"
        secs = f"{r.seconds:.1f}" if r.seconds is not None else "-"
        cpu = f"{r.cpu:.1f}" if r.cpu is not None else "-"
        gb = f"{r.peak_gb:.2f}" if r.peak_gb is not None else "-"
        missed = sorted(TRULY_DRIFTED - r.flagged) if r.flagged is not None else []
        note = r.note or (f"missed {', '.join(missed)}" if missed else "")
        print(f"{r.tool:<22}{secs:>9}{cpu:>8}{gb:>9}{true:>13}{false:>12}  {note}")

    measured = [p for p in peers if p.seconds is not None]
    if ours.seconds is None:
        return
    print(
        f"watchkeeper drift / floor time: {ours.seconds / floor.seconds:.2f}x (bar: <= 1.5x); "
        f"drift module alone / floor: {(alone.seconds or 0) / floor.seconds:.2f}x; "
        f"CPU seconds: {(ours.cpu or 0) / (floor.cpu or 1):.2f}x and "
        f"{(alone.cpu or 0) / (floor.cpu or 1):.2f}x"
    )
    if measured:
        fastest = min(measured, key=lambda p: p.seconds or 0)
        leanest = min(measured, key=lambda p: p.peak_gb or 0)
        fewest = min(len(p.flagged - TRULY_DRIFTED) for p in measured if p.flagged is not None)
        print(
            f"speed-up vs fastest peer ({fastest.tool}): "
            f"{(fastest.seconds or 0) / ours.seconds:.1f}x (bar: >= 5x); drift module alone: "
            f"{(fastest.seconds or 0) / (alone.seconds or 1):.1f}x"
        )
        print(
            f"peak memory vs leanest peer ({leanest.tool}): "
            f"{(ours.peak_gb or 0) / (leanest.peak_gb or 1):.2f}x (bar: <= 0.5x)"
        )
        ours_false = len((ours.flagged or set()) - TRULY_DRIFTED)
        print(
            f"false positives: watchkeeper {ours_false}, fewest among peers {fewest} "
            f"(bar: fewer); true drifts flagged: "
            f"{len((ours.flagged or set()) & TRULY_DRIFTED)}/{len(TRULY_DRIFTED)}"
        )


if __name__ == "__main__":
    main()
