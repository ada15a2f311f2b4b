"""The model in a worker process, at a lower CPU priority, so capture keeps its pace.

torch holds the GIL between its many small operations, and a firm's server has few cores:
in a thread of the Kartei process the model slowed capture by more than half. In its own
process, niced, it takes only the CPU that capture leaves over, and the Kartei process
never imports torch at all.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from hub.workers import exit_with
from policies.classifier.model import Prediction, load_model

_model: Any = None
_error: Exception | None = None


def _start(load_kwargs: dict[str, Any], nice: int, owner: int) -> None:
    global _model, _error
    exit_with(owner)
    if nice:
        os.nice(nice)
    if not load_kwargs.get("threads"):
        # Leave a core to capture: classification runs behind, capture must not slow down.
        load_kwargs = {**load_kwargs, "threads": max(1, (os.cpu_count() or 2) - 1)}
    try:
        _model = load_model(**load_kwargs)
    except Exception as err:  # reported by _describe: a failing initializer loses the reason
        _error = err


def _describe() -> tuple[str, str]:
    if _error is not None:
        raise _error
    return _model.name, _model.version


def _predict(texts: list[str]) -> list[Prediction]:
    return list(_model.predict(texts))


class WorkerModel:
    """A model loaded and run in one worker process; same interface as the model itself."""

    def __init__(self, load_kwargs: dict[str, Any], *, nice: int = 19) -> None:
        # spawn, not fork: forking a process that may hold torch's thread pools is unsafe.
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(
            1, mp_context=context, initializer=_start, initargs=(load_kwargs, nice, os.getpid())
        )
        try:
            self.name, self.version = self._pool.submit(_describe).result()
        except BaseException:
            self._pool.shutdown(wait=False, cancel_futures=True)
            raise

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        return self._pool.submit(_predict, list(texts)).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
