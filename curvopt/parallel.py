"""Parallel and distributed evaluation of batches: the ``workers=`` option.

``workers`` follows scipy's convention (``scipy.optimize.differential_evolution``):

* an int: a process pool of that size (``concurrent.futures.ProcessPoolExecutor`` with the
  platform's default start method) that curvopt starts at the first batch sent to it and
  shuts down when the call (``minimize``, ``hessian``, ``check``, ...) returns; -1 means
  every core this process may use, 1 (or None) means serial;
* a map-like callable ``workers(func, iterable)`` returning the results in order, e.g.
  ``multiprocessing.Pool(4).map`` or the builtin ``map`` (serial, in-process);
* a ``concurrent.futures.Executor``: ``ProcessPoolExecutor``, ``ThreadPoolExecutor``,
  loky, ``dask.distributed.Client(...).get_executor()``. Tasks are submitted one by one
  and their results collected in order.

:class:`PoolBackend` wraps the serial backend of an :class:`~curvopt.objective.Objective`
(:mod:`curvopt.evaluation`); counting and ``maxfev`` stay in ``Objective.values``. The rule
for a batch of m points and w workers:

* in-process, serially: a batch of one point (``m < MIN_BATCH``), and the first point the
  objective ever evaluates (it fixes the precision of f, see ``Objective._precision``);
* otherwise ``w k`` contiguous chunks of near-equal size, ``k = min(TASKS_PER_WORKER,
  max(1, m // (MIN_TASK_POINTS w)))`` (a 2n^2 + 1 Hessian stencil at n = 10 on 2 workers:
  8 chunks of ~25 points), one task per chunk. A worker evaluates its chunk with the
  *same* serial backend (an ``@njit`` objective in its compiled loop; dispatchers pickle),
  so the values are bit-identical to the serial path on the same host (a vectorized ``fun``
  gets fewer columns per call: identical when each column is computed on its own, as
  numpy's elementwise operations and reductions along axis 0 do). On another host they
  agree within the finite-difference error bound (other libm, other SIMD paths).

What a task carries: ``fun`` and ``args`` are serialized once per objective (with
cloudpickle when it is installed -- it comes with dask -- else pickle; an objective that
cannot be serialized is a TypeError before any evaluation) and sent with the first batch;
a worker keeps the last ``CACHE_SIZE`` objectives it received, so later tasks carry only
the chunk and a token (a worker that has not seen the token answers so and gets the
payload again). Threads (``ThreadPoolExecutor``, ``multiprocessing.pool.ThreadPool``) and
the builtin ``map`` receive the objective itself: nothing is pickled.

Exceptions: a worker returns the exception raised in ``fun`` (with the worker's traceback
as a note) and the parent raises it: the original type and message, the first failing chunk
in batch order -- the exception the serial path raises -- and remaining tasks are
cancelled. A ``StopIteration`` stays a ``StopIteration`` (``Executor.map`` would turn it
into RuntimeError). An exception that cannot be pickled back arrives as
:class:`WorkerError` with its type name and message.
"""
from __future__ import annotations

import os
import pickle
import threading
import traceback
import uuid
from collections import OrderedDict
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import closing
from multiprocessing.pool import Pool, ThreadPool

import numpy as np

from curvopt.evaluation import Changes, batch_size, materialise
from curvopt.options import check_workers

__all__ = ["PoolBackend", "Workers", "as_workers", "WorkerError", "MIN_BATCH",
           "TASKS_PER_WORKER", "MIN_TASK_POINTS", "CACHE_SIZE"]

#: batches with fewer points run in-process
MIN_BATCH = 2
#: at most this many tasks per worker in a batch (load balance vs scheduling cost)
TASKS_PER_WORKER = 4
#: a batch is cut into more than one task per worker only when each gets this many points
MIN_TASK_POINTS = 4
#: objectives a worker process keeps (their fun, args and compiled loops)
CACHE_SIZE = 4


class WorkerError(RuntimeError):
    """An exception raised in a worker that could not be pickled back as itself."""


def cpu_count():
    """Cores this process may use (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _executor_size(ex):
    """Workers behind an Executor: ``_max_workers``, a dask client's threads, or the cores."""
    client = getattr(ex, "_client", None)
    if client is not None and callable(getattr(client, "nthreads", None)):
        return max(1, sum(client.nthreads().values()))
    size = getattr(ex, "_max_workers", None)
    return int(size) if isinstance(size, int) and size > 0 else cpu_count()


def _map_size(fn):
    """Workers behind a map callable: the pool of a bound ``Pool.map``, 1 for ``map``."""
    if fn is map:
        return 1
    pool = getattr(fn, "__self__", None)
    size = getattr(pool, "_processes", None) if isinstance(pool, Pool) else None
    return int(size) if isinstance(size, int) and size > 0 else cpu_count()


def _is_thread_based(spec):
    """True when tasks run in this process (no pickling needed)."""
    return (spec is map or isinstance(spec, ThreadPoolExecutor)
            or isinstance(getattr(spec, "__self__", None), ThreadPool))


class Workers:
    """A validated ``workers=`` value: where tasks run, how many workers, whether tasks
    are pickled (``direct`` False) and whether curvopt owns (and shuts down) the pool.

    Parameters
    ----------
    spec : int, callable or concurrent.futures.Executor
        See the module docstring; an int > 1 (or -1) starts a pool at the first task.
    """

    def __init__(self, spec):
        spec = check_workers(spec)
        self.owned = isinstance(spec, int)
        self._executor = spec if isinstance(spec, Executor) else None
        self._map = spec if not self.owned and self._executor is None else None
        self.direct = _is_thread_based(spec)
        if self.owned:
            self.size = cpu_count() if spec == -1 else spec
            self.label = f"{self.size} processes"
        elif self._executor is not None:
            self.size = _executor_size(spec)
            self.label = f"{type(spec).__name__} ({self.size} workers)"
        else:
            self.size = _map_size(spec)
            self.label = f"map {getattr(spec, '__qualname__', type(spec).__name__)}"

    def results(self, func, tasks):
        """``func(task)`` for every task, yielded in order (close the generator early to
        cancel the tasks not yet started)."""
        if self._map is not None:
            yield from list(self._map(func, tasks))
            return
        if self._executor is None:
            self._executor = ProcessPoolExecutor(max_workers=self.size)
        futures = [self._executor.submit(func, t) for t in tasks]
        try:
            for fut in futures:
                yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()

    def close(self, error=False):
        """Shut down the pool curvopt started (a no-op for the user's pool or map); after
        an error (``error``) its processes are stopped without finishing their tasks."""
        if self.owned and self._executor is not None:
            if error:
                for proc in list(getattr(self._executor, "_processes", {}).values()):
                    proc.terminate()
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def as_workers(spec):
    """:class:`Workers` for ``spec``, or None for serial evaluation (None or 1 or -1 on a
    single core). TypeError / ValueError naming ``workers`` for a bad value."""
    spec = check_workers(spec)
    if spec is None or spec == 1 or (spec == -1 and cpu_count() == 1):
        return None
    return Workers(spec)


def _dumps(obj):
    """(bytes, serializer name): cloudpickle when installed, else pickle."""
    try:
        import cloudpickle
    except ImportError:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), "pickle"
    return cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), "cloudpickle"


def _serialize(make, fun, args, workers):
    """``make`` pickled for worker processes; TypeError naming the culprit and the fix."""
    try:
        return _dumps(make)[0]
    except Exception as exc:  # noqa: BLE001 -- PicklingError, TypeError, AttributeError...
        cause = exc
    what = "fun"
    for name, obj in [("fun", fun)] + [(f"args[{k}]", a) for k, a in enumerate(args)]:
        try:
            _dumps(obj)
        except Exception:  # noqa: BLE001 -- find which part fails
            what = name
            break
    serializer = _dumps(None)[1]
    hint = ("" if serializer == "cloudpickle" else
            " or install cloudpickle (it comes with dask: pip install 'dask[distributed]'), "
            "which also sends lambdas and closures,")
    raise TypeError(
        f"workers={workers.label}: {what} cannot be sent to worker processes: "
        f"{serializer} failed with {type(cause).__name__}: {cause}. Define fun at module "
        f"level (and pass its data through args: arrays, not open files, locks or "
        f"connections){hint} or evaluate in threads, which need no pickling "
        f"(workers=concurrent.futures.ThreadPoolExecutor(n))") from cause


def _part(batch, start, stop):
    """Points start..stop-1 of a batch, as a batch of the same kind."""
    if isinstance(batch, Changes):
        return Changes(batch.x, batch.i[start:stop], batch.a[start:stop],
                       batch.j[start:stop], batch.b[start:stop])
    return batch[start:stop]


def split(m, size):
    """Contiguous (start, stop) chunks of a batch of m points for ``size`` workers."""
    k = min(TASKS_PER_WORKER, max(1, m // (MIN_TASK_POINTS * size)))
    t = min(m, size * k)
    edges = (np.arange(t + 1) * m) // t
    return list(zip(edges[:-1].tolist(), edges[1:].tolist()))


class _Failure:
    """An exception raised in a worker, sent back as a value: the exception itself
    (threads) or its bytes, serialized as the objective was (so that a class cloudpickle
    sent by value comes back as the caller's class)."""

    def __init__(self, exc=None, data=None):
        self._exc, self.data = exc, data

    @property
    def exc(self):
        return self._exc if self.data is None else pickle.loads(self.data)


def _failure(exc, remote):
    """The exception as a :class:`_Failure`; from another process with the worker's
    traceback as a note, and a :class:`WorkerError` if it does not survive pickling."""
    if not remote:
        return _Failure(exc)
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    note = f"raised in worker process {os.getpid()}:\n{text.rstrip()}"
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    try:
        data = _dumps(exc)[0]
        pickle.loads(data)
    except Exception:  # noqa: BLE001 -- e.g. a custom __init__ pickle cannot call
        exc = WorkerError(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")
        if hasattr(exc, "add_note"):
            exc.add_note(note)
        data = _dumps(exc)[0]
    return _Failure(data=data)


_CACHE = OrderedDict()
_LOCK = threading.Lock()


def _backend_for(token, payload):
    """The serial backend of objective ``token`` in this worker (None: unknown here and
    no payload sent)."""
    with _LOCK:
        backend = _CACHE.get(token)
        if backend is not None:
            _CACHE.move_to_end(token)
            return backend
    if payload is None:
        return None
    backend = pickle.loads(payload)()
    with _LOCK:
        _CACHE[token] = backend
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return backend


def evaluate_chunk(task):
    """Run in a worker: ``(token, payload, n, chunk)`` -> the chunk's values (float64),
    a :class:`_Failure`, or None when the worker needs the payload. With ``token`` None
    the payload is ``make`` itself (threads, the builtin map): a backend per task."""
    token, payload, n, chunk = task
    try:
        backend = payload() if token is None else _backend_for(token, payload)
        if backend is None:
            return None
        return np.asarray(backend(chunk, n), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 -- sent back and raised in the caller
        return _failure(exc, token is not None)


class PoolBackend:
    """A serial backend's batches cut into chunks and evaluated by ``workers``.

    Parameters
    ----------
    serial : callable
        The objective's serial backend ``serial(batch, n) -> values``.
    make : callable
        Picklable, no arguments: builds the same serial backend in a worker.
    workers : Workers
    fun, args
        The user's function and extra arguments (to name the culprit when ``make`` cannot
        be pickled).
    """

    def __init__(self, serial, make, workers, fun=None, args=()):
        self.serial, self.workers = serial, workers
        self.token = None if workers.direct else uuid.uuid4().hex
        self.payload = make if workers.direct else _serialize(make, fun, args, workers)
        self.sent = False                  # the payload went out with a batch
        self.started = False               # the first point was evaluated in-process

    @property
    def name(self):
        return f"{self.serial.name} on {self.workers.label}"

    def __call__(self, batch, n):
        m = batch_size(batch)
        if m < MIN_BATCH:
            self.started = True
            return self.serial(batch, n)
        out = np.empty(m)
        first, batch = 0, materialise(batch)
        if not self.started:
            out[0] = self.serial(_part(batch, 0, 1), n)[0]
            self.started, first = True, 1
        bounds = [(first + s, first + e) for s, e in split(m - first, self.workers.size)]
        parts = [_part(batch, s, e) for s, e in bounds]
        for (s, e), vals in zip(bounds, self._dispatch(parts, n)):
            out[s:e] = vals
        return out

    def _dispatch(self, parts, n):
        """Values of every part, in order; the first failure in order is raised."""
        results = [None] * len(parts)
        todo, resend = list(range(len(parts))), False
        while todo:
            with_payload = self.token is None or resend or not self.sent
            payload = self.payload if with_payload else None
            tasks = [(self.token, payload, n, parts[k]) for k in todo]
            missed = []
            with closing(self.workers.results(evaluate_chunk, tasks)) as stream:
                for k, res in zip(todo, stream):
                    if res is None and not with_payload:
                        missed.append(k)           # a worker that has not seen the token
                        continue
                    _check_result(res, parts[k], self.workers)
                    results[k] = res
                    if isinstance(res, _Failure) and all(
                            isinstance(r, np.ndarray) for r in results[:k]):
                        raise res.exc              # the first failure in batch order
            self.sent = self.sent or with_payload
            todo, resend = missed, True
        for res in results:
            if isinstance(res, _Failure):
                raise res.exc
        return results

    def close(self, error=False):
        """Forget this objective in this process and shut down curvopt's own pool
        (stopping its processes after an error)."""
        if self.token is not None:
            with _LOCK:
                _CACHE.pop(self.token, None)
        self.workers.close(error)


def _check_result(res, part, workers):
    """A task's result is an array of the chunk's length, or a failure."""
    if isinstance(res, _Failure):
        return
    if not (isinstance(res, np.ndarray) and res.shape == (batch_size(part),)):
        raise TypeError(f"workers={workers.label} returned {type(res).__name__} for a "
                        f"task; workers(func, iterable) must return func's results in order "
                        f"(for a dask Client pass client.get_executor(), not client.map)")
