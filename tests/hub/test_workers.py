"""Pool workers end when the Kartei process that owns them is killed (SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

OWNER = """
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from hub.workers import exit_with

def pid(_):
    return os.getpid()

if __name__ == "__main__":
    context = multiprocessing.get_context(sys.argv[1])
    pool = ProcessPoolExecutor(2, mp_context=context, initializer=exit_with,
                               initargs=(os.getpid(),))
    print(" ".join(map(str, set(pool.map(pid, range(40))))), flush=True)
    time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_workers_exit_when_their_owner_is_killed(tmp_path, method: str) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "owner.py"
    script.write_text(OWNER)
    with subprocess.Popen(
        [sys.executable, str(script), method], stdout=subprocess.PIPE, text=True
    ) as owner:
        assert owner.stdout is not None
        workers = [int(p) for p in owner.stdout.readline().split()]
        owner.send_signal(signal.SIGKILL)
    assert workers and owner.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 15
    while any(map(_alive, workers)):
        assert time.monotonic() < deadline, f"orphaned workers {workers} still run"
        time.sleep(0.1)
