"""Run untrusted, long or hungry work (a retraining template) in a separate process.

The child is started with multiprocessing's `spawn` (a fresh interpreter: no copied locks,
sessions or sockets of the server), gets an address-space limit (`RLIMIT_AS`) and one thread
per native pool, and must finish within a wall-time limit. Its input and output travel as
files in a private folder, so a child that dies leaves nothing half-written in the parent.

Every way it can end becomes a `SandboxResult` with a status the caller acts on:
  ok             the function returned; `value` holds what it returned
  error          it raised an ordinary exception (bad data, a template bug): message and type
  out_of_memory  it hit the memory limit (MemoryError), or the kernel killed it (SIGKILL)
  timeout        it ran past the wall-time limit and was stopped
  crashed        it died without a word (segfault, os._exit, abort)

The memory limit is headroom above what the interpreter and the libraries have mapped when
the child starts: thread pools and shared libraries reserve gigabytes of address space they
never touch, so a total cap would either refuse to start or mean little.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import signal
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

STATUSES = ("ok", "error", "out_of_memory", "timeout", "crashed")
_STATUS = "status.json"
_OUTPUT = "output.joblib"
_INPUT = "input.joblib"


@dataclass(frozen=True, slots=True)
class SandboxResult:
    status: str
    value: Any = None
    message: str = ""
    error_type: str | None = None
    exitcode: int | None = None
    elapsed_s: float = 0.0
    peak_rss_mb: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def summary(self) -> dict[str, Any]:
        return {"status": self.status, "message": self.message[:2000],
                "error_type": self.error_type, "exitcode": self.exitcode,
                "elapsed_s": round(self.elapsed_s, 3), "peak_rss_mb": self.peak_rss_mb}


def _mapped_bytes() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _limit_memory(headroom_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: the wall-time limit still holds
        return
    limit = _mapped_bytes() + headroom_bytes
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


def _write_status(folder: Path, payload: dict[str, Any]) -> None:
    tmp = folder / (_STATUS + ".tmp")
    tmp.write_text(json.dumps(payload))
    tmp.replace(folder / _STATUS)


def _child(fn: Callable[[Any], Any], folder: str, headroom_bytes: int) -> None:
    out = Path(folder)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)  # one core's worth per job; the server keeps the others
        arg = joblib.load(out / _INPUT)
        _limit_memory(headroom_bytes)
        value = fn(arg)
        joblib.dump(value, out / _OUTPUT)
        _write_status(out, {"status": "ok", "peak_rss_mb": _peak_rss_mb()})
    except MemoryError:
        # free what we can before writing: the handler itself needs a little memory
        _write_status(out, {"status": "out_of_memory", "peak_rss_mb": _peak_rss_mb(),
                            "message": "the job ran out of memory (MemoryError at the limit)"})
        os._exit(3)
    except BaseException as exc:  # a template's bug must reach the caller, not kill the server
        tb = traceback.format_exc(limit=8)
        _write_status(out, {"status": "error", "error_type": type(exc).__name__,
                            "message": f"{type(exc).__name__}: {exc}\n{tb}",
                            "peak_rss_mb": _peak_rss_mb()})
        os._exit(2)


def run(fn: Callable[[Any], Any], arg: Any, *, timeout_s: float, memory_mb: int,
        workdir: Path | None = None) -> SandboxResult:
    """Call `fn(arg)` in a child process; `fn` must be importable (module level)."""
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be positive, got {timeout_s}")
    if memory_mb < 16:
        raise ValueError(f"memory_mb must be at least 16, got {memory_mb}")
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="wk-sandbox-", dir=workdir))
    try:
        joblib.dump(arg, folder / _INPUT)
        ctx = mp.get_context("spawn")
        proc = ctx.Process(target=_child, args=(fn, str(folder), memory_mb * 1024 * 1024),
                           name="watchkeeper-sandbox", daemon=True)
        started = time.monotonic()
        proc.start()
        proc.join(timeout_s)
        timed_out = proc.is_alive()
        if timed_out:
            proc.terminate()
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        elapsed = time.monotonic() - started
        return _result(folder, proc.exitcode, timed_out, elapsed, timeout_s)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _result(folder: Path, exitcode: int | None, timed_out: bool, elapsed: float,
            timeout_s: float) -> SandboxResult:
    if timed_out:
        return SandboxResult("timeout", message=f"stopped after the wall-time limit of "
                             f"{timeout_s:g} s", exitcode=exitcode, elapsed_s=elapsed)
    status_file = folder / _STATUS
    if status_file.exists():
        info = json.loads(status_file.read_text())
        value = None
        if info["status"] == "ok":
            value = joblib.load(folder / _OUTPUT)
        return SandboxResult(info["status"], value, info.get("message", ""),
                             info.get("error_type"), exitcode, elapsed, info.get("peak_rss_mb"))
    if exitcode is not None and exitcode == -signal.SIGKILL:
        return SandboxResult("out_of_memory", message="the job was killed (SIGKILL), most "
                             "likely by the kernel's out-of-memory killer", exitcode=exitcode,
                             elapsed_s=elapsed)
    how = (f"signal {signal.Signals(-exitcode).name}" if exitcode is not None and exitcode < 0
           else f"exit code {exitcode}")
    return SandboxResult("crashed", message=f"the job died without a result ({how})",
                         exitcode=exitcode, elapsed_s=elapsed)
