"""Worker processes end with Kartei: a killed Kartei must not leave its pools running.

A worker of a `ProcessPoolExecutor` waits on its call queue and does not notice that the
process that fed it is gone (SIGKILL, out of memory), and neither does a forkserver: each
orphan would keep its memory (a classifier worker holds half a gigabyte) until the machine
restarts. Pool initializers call `exit_with(os.getpid() of Kartei)`, which watches that
process from a daemon thread.
"""

from __future__ import annotations

import os
import threading
import time

CHECK_SECONDS = 1.0


def exit_with(owner: int) -> None:
    """Ends this process soon after the process `owner` is gone."""

    def watch() -> None:
        while _alive(owner):
            time.sleep(CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name=f"exit-with-{owner}", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else (the pid was reused)
        return False
    return True
