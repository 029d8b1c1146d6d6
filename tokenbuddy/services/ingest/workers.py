"""Parsing a large backlog in several processes, this one included.

The workers are forked, each with a staging file of its own, and claim batches
from one shared work list as they become free.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import signal
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokenbuddy.services import price_loader
from tokenbuddy.services.ingest.pricing import ScheduleCache, load_prices
from tokenbuddy.services.ingest.reads import Batch, BatchRead, stage_batch
from tokenbuddy.store.staging import StagingFile

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

_worker: dict[str, Any] = {}
"""A worker process's staging file and work list, set by the pool initializer."""


@dataclass(frozen=True, slots=True)
class WorkList:
    """Batches that every parsing process claims from, one at a time, front first.

    A process claims its next batch only when it is ready to start it, so no
    batch waits in one process's queue while another sits idle; as the batches
    are sorted largest first, the processes finish within one small batch of
    each other. Inherited by the workers through ``fork``.
    """

    batches: list[Batch]
    claimed: Any
    """A shared ``multiprocessing.Value``: how many batches were claimed."""

    def claim(self) -> Batch | None:
        """The next unclaimed batch, or None when all are taken."""
        with self.claimed.get_lock():
            index: int = self.claimed.value
            if index >= len(self.batches):
                return None
            self.claimed.value = index + 1
        return self.batches[index]


def _init_worker(staging_dir: Path, work: WorkList, parent: int) -> None:
    _quiet_when_orphaned(parent)
    gc.disable()  # parsing allocates much but makes no reference cycles: nothing to collect
    price_loader.forget_in_child()
    _worker["staging"] = StagingFile(staging_dir)
    _worker["work"] = work


def _quiet_when_orphaned(parent: int) -> None:
    """Leave Ctrl+C and the parent's death to the parent, and print nothing.

    Ctrl+C reaches every process of the terminal's group: the parent stops the pool and
    exits, so a worker ignores it. A parent killed outright takes its workers with it (on
    Linux); elsewhere a worker finds its result pipe broken, and the traceback
    multiprocessing would print about that goes nowhere. A worker's own errors still
    reach the parent with its results.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(0)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stderr.fileno())
    os.close(devnull)


_PR_SET_PDEATHSIG = 1
"""Linux ``prctl`` option: the signal a process gets when its parent dies."""


def _read_claimed_in_worker() -> BatchRead | None:
    """Claim the next batch and stage it; None when none was left."""
    batch = _worker["work"].claim()
    return None if batch is None else stage_batch(batch, _worker["staging"])


def read_in_processes(
    batches: list[Batch], cached: ScheduleCache, workers: int, own: StagingFile
) -> Iterator[BatchRead]:
    """Parse every batch in ``workers`` processes, this one included."""
    context = multiprocessing.get_context("fork")
    work = WorkList(batches, context.Value("i", 0))
    pool = context.Pool(
        workers - 1, initializer=_init_worker, initargs=(own.path.parent, work, os.getpid())
    )
    collecting = gc.isenabled()
    gc.disable()  # parsing allocates much but makes no reference cycles: nothing to collect
    try:
        warm_up = None if cached or price_loader.active() else load_prices
        yield from _shared_work(pool, work, own, in_flight=2 * (workers - 1), warm_up=warm_up)
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        if collecting:
            gc.enable()
        pool.join()


def _shared_work(
    pool: Any,
    work: WorkList,
    own: StagingFile,
    in_flight: int,
    warm_up: Callable[[], None] | None = None,
) -> Iterator[BatchRead]:
    """Parse batches in the pool and in this process, yielding each as it is ready.

    Pool tasks claim their batch when they start, and ``in_flight`` tasks are
    kept queued so a worker never waits for this process to hand it work. This
    process parses a batch itself whenever no worker result is waiting, after
    running ``warm_up`` once the first tasks are queued.
    """
    pending: deque[Any] = deque()
    exhausted = False
    while not exhausted or pending:
        while not exhausted and len(pending) < in_flight:
            pending.append(pool.apply_async(_read_claimed_in_worker))
        if warm_up is not None:
            warm_up()
            warm_up = None
        if pending and (pending[0].ready() or exhausted):
            batch_read = pending.popleft().get()
            exhausted = exhausted or batch_read is None
            if batch_read is not None:
                yield batch_read
            continue
        batch = work.claim()
        if batch is None:
            exhausted = True
        else:
            yield stage_batch(batch, own)
