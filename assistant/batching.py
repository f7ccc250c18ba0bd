"""Micro-batching of query encodings: requests that arrive together share one encoder call.

The app serves many staff at once; each question needs its query vector before
anything else. ``QueryBatcher`` owns the encoder: callers hand it their texts and
wait, and one worker thread encodes whatever has gathered in one call. It waits
for more only while requests are known to be on their way (inside ``expecting``,
e.g. a question being analysed before its search), and at most ``window_ms``, so a
lone request is encoded at once. Vectors are the same as unbatched ones: the
bundled encoder packs texts without padding (``tests/test_batching.py`` checks).

Only the worker thread calls the encoder, which also makes an encoder that is not
thread-safe safe to share between the app's request threads.
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
class _Request:
    texts: list[str]
    done: threading.Event = field(default_factory=threading.Event)
    result: np.ndarray | None = None
    error: BaseException | None = None


class QueryBatcher:
    """Encodes the texts of concurrent callers in shared calls to ``encode``."""

    def __init__(self, encode: Callable[[Sequence[str]], np.ndarray], window_ms: float = DEFAULT_WINDOW_MS,
                 max_batch: int = DEFAULT_MAX_BATCH) -> None:
        self._encode = encode
        self.window_s = max(0.0, window_ms) / 1000
        self.max_batch = max(1, max_batch)
        self._cond = threading.Condition()
        self._queue: list[_Request] = []
        #: Requests inside ``expecting`` that have not handed in their texts yet.
        self._expected = 0
        self._local = threading.local()
        self._thread: threading.Thread | None = None
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
        req = _Request(list(texts))
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
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="shiori-query-batcher", daemon=True)
                self._thread.start()
            self._cond.notify_all()
        req.done.wait()
        if req.error is not None:
            raise req.error
        assert req.result is not None
        return req.result

    def close(self) -> None:
        """Stop the worker once the queue is empty."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # ------------------------------------------------------------- worker
    def _take(self) -> list[_Request] | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if not self._queue:
                return None
            deadline = time.monotonic() + self.window_s
            while self._expected > 0 and sum(len(r.texts) for r in self._queue) < self.max_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            batch, size = [], 0
            while self._queue and (not batch or size + len(self._queue[0].texts) <= self.max_batch):
                req = self._queue.pop(0)
                batch.append(req)
                size += len(req.texts)
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            texts = [t for r in batch for t in r.texts]
            try:
                vecs = np.asarray(self._encode(texts), dtype=np.float32) if texts else None
            except BaseException as e:  # handed to every caller of the batch, which re-raises it
                for r in batch:
                    r.error = e
                    r.done.set()
                continue
            self.calls += 1
            self.texts += len(texts)
            start = 0
            for r in batch:
                n = len(r.texts)
                r.result = vecs[start : start + n] if vecs is not None else np.zeros((0, 0), np.float32)
                start += n
                r.done.set()
