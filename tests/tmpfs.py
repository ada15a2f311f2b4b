"""A small real filesystem that fills up, for the disk-full tests (a tmpfs; mounting it
needs root, so elsewhere those tests skip)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_tmpfs(disk: Path, size: str) -> Iterator[Path]:
    """`disk` created and mounted as a tmpfs of `size` (e.g. "640k"), unmounted after."""
    disk.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)]
    if os.geteuid() != 0 or subprocess.run(mount, capture_output=True).returncode != 0:
        pytest.skip("mounting a small filesystem needs root (CAP_SYS_ADMIN)")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def grow(disk: Path) -> None:
    """Space returns: the filesystem grows to 64 MB."""
    subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
