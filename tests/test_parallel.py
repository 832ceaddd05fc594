"""Tests of ``workers=`` (curvopt.parallel): the same values, counts and exceptions as the
serial path through every kind of worker, the chunking rule, the budget, the errors that
name their cause, the deprecated ``parallel`` flag, the CLI and a real dask LocalCluster.

Pools are module-scoped (started once); curvopt's own pools (``workers=2``) are started
and shut down by each call. No timing is asserted here: speed is benchmarks/bench_parallel.py.
"""
import multiprocessing
import multiprocessing.pool
import os
import pickle
import sys
import threading
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
from numba import njit
from scipy.optimize import rosen

import curvopt
from curvopt import parallel
from curvopt.cli import main as cli_main
from curvopt.evaluation import Changes, batch_size
from curvopt.objective import BudgetExhausted, Objective

RNG = np.random.default_rng(7)
A = RNG.normal(size=(40, 4))
Y = (A @ np.array([1.0, -0.5, 0.25, 0.0]) + RNG.normal(size=40) > 0).astype(float)
X0 = np.zeros(4)


def logistic(x, A, y):
    """Logistic negative log-likelihood (a Python objective with data in args)."""
    z = A @ x
    return float(np.sum(np.logaddexp(0.0, z) - y * z))


def logistic_vec(X, A, y):
    """``logistic`` for an (n, m) array of points (each column on its own)."""
    Z = A @ X
    return np.sum(np.logaddexp(0.0, Z) - y[:, None] * Z, axis=0)


@njit
def rosen_jit(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


class ModelError(Exception):
    """A user's own exception type."""


def fails_off_axis(x, kind):
    """Fine where x[1] <= 0; raises ``kind`` (naming the point) where x[1] > 0."""
    if x[1] > 0.0:
        exc = {"stop": StopIteration, "model": ModelError, "value": ValueError}[kind]
        raise exc(f"bad point {x.tolist()}")
    return float(x @ x)


def f32(x):
    return np.float32(np.sum(x ** 2))


@pytest.fixture(scope="module")
def executor():
    # Compile rosen_jit's loops in the parent and give the dispatcher its pickle id before
    # the fork: the workers inherit both (else each compiles once, ~1-2 s).
    with Objective(rosen_jit, np.zeros(3)) as obj:
        obj.values(Changes(np.zeros(3), np.array([0, 1]), np.ones(2), np.array([-1, 0]),
                           np.ones(2)))
    pickle.dumps(rosen_jit)
    ex = ProcessPoolExecutor(2)
    yield ex
    ex.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def mp_pool():
    with multiprocessing.Pool(2) as pool:
        yield pool


@pytest.fixture(scope="module")
def threads():
    with ThreadPoolExecutor(2) as ex:
        yield ex


KINDS = ["int", "pool.map", "executor", "threads", "map"]


@pytest.fixture
def workers(request):
    """One ``workers=`` value of each kind (parametrized by name)."""
    get = request.getfixturevalue
    return {"int": lambda: 2, "pool.map": lambda: get("mp_pool").map, "map": lambda: map,
            "executor": lambda: get("executor"), "threads": lambda: get("threads")
            }[request.param]()


def _same_estimate(a, b):
    assert np.array_equal(a.value, b.value) and np.array_equal(a.error, b.error)
    assert a.nfev == b.nfev and a.f == b.f


# --- identical values and counts ---------------------------------------------------------

@pytest.mark.parametrize("workers", KINDS, indirect=True)
def test_hessian_gradient_hessp_noise_identical_to_serial(workers):
    x = np.array([0.3, -0.2, 0.1, 0.5])
    args = (A, Y)
    _same_estimate(curvopt.hessian(logistic, x, args, workers=workers),
                   curvopt.hessian(logistic, x, args))
    _same_estimate(curvopt.gradient(logistic, x, args, workers=workers),
                   curvopt.gradient(logistic, x, args))
    v = np.array([1.0, 0.0, -1.0, 2.0])
    _same_estimate(curvopt.hessp(logistic, x, v, args, workers=workers),
                   curvopt.hessp(logistic, x, v, args))
    a, b = (curvopt.noise_level(logistic, x, args, workers=w) for w in (workers, None))
    assert (a.sigma, a.nfev) == (b.sigma, b.nfev)


@pytest.mark.parametrize("fun, args, kw", [
    (rosen_jit, (), {}),                                  # compiled loops in the workers
    (logistic_vec, (A, Y), {"vectorized": True}),
])
def test_jit_and_vectorized_objectives_identical_in_worker_processes(executor, fun, args, kw):
    x = np.array([0.3, -0.2, 0.1, 0.5])
    _same_estimate(curvopt.hessian(fun, x, args, workers=executor, **kw),
                   curvopt.hessian(fun, x, args, **kw))


def logged(x, path):
    """x @ x, appending this process's id to ``path``."""
    with open(path, "a") as fh:
        fh.write(f"{os.getpid()}\n")
    return float(x @ x)


@pytest.mark.parametrize("workers", ["int", "pool.map", "executor"], indirect=True)
def test_batches_run_in_the_worker_processes(workers, tmp_path):
    path = tmp_path / "pids.txt"
    r = curvopt.hessian(logged, np.ones(3), (str(path),), noise=0.0, workers=workers)
    pids = [int(p) for p in path.read_text().split()]
    assert len(pids) == r.nfev
    assert pids.count(os.getpid()) == 1                   # f(x) only: one point, in-process
    assert len(set(pids) - {os.getpid()}) >= 1


def _same_run(a, b):
    assert np.array_equal(a.x, b.x) and a.fun == b.fun
    assert (a.nfev, a.njev, a.nit, a.status) == (b.nfev, b.njev, b.nit, b.status)
    assert a.certificate.classification == b.certificate.classification
    assert np.array_equal(a.certificate.lam, b.certificate.lam)


@pytest.mark.parametrize("workers", ["int", "pool.map", "executor"], indirect=True)
def test_minimize_identical_to_serial(workers):
    serial = curvopt.minimize(logistic, X0, args=(A, Y))
    assert serial.success
    _same_run(curvopt.minimize(logistic, X0, args=(A, Y), workers=workers), serial)


def logistic_fg(x, A, y):
    """(f, g) of ``logistic`` (scipy's ``jac=True``)."""
    return logistic(x, A, y), A.T @ (1.0 / (1.0 + np.exp(-(A @ x))) - y)


@pytest.mark.parametrize("workers", ["executor", "threads"], indirect=True)
def test_scipy_minimize_passes_workers_and_jac_true(workers):
    """Through scipy's (f, g) memoizer; threads each get their own copy of its memo."""
    kw = dict(args=(A, Y), method=curvopt, jac=True)
    serial = scipy.optimize.minimize(logistic_fg, X0, **kw)
    _same_run(scipy.optimize.minimize(logistic_fg, X0, options={"workers": workers}, **kw),
              serial)


def test_check_identical_to_serial(executor):
    x = curvopt.minimize(logistic, X0, args=(A, Y)).x
    a = curvopt.check(logistic, x, (A, Y), workers=executor, names=list("abcd"))
    b = curvopt.check(logistic, x, (A, Y), names=list("abcd"))
    assert a.classification == b.classification == "minimum"
    assert np.array_equal(a.lam, b.lam) and a.nfev == b.nfev


def _children():                                # processes this one started, alive
    return set(multiprocessing.active_children())


def test_own_pool_is_shut_down_after_the_call_also_on_error():
    before = _children()                    # the module's pools
    curvopt.hessian(logistic, X0, (A, Y), workers=2)
    assert _children() == before
    with pytest.raises(ModelError):
        curvopt.minimize(fails_off_axis, np.array([1.0, 0.0]), args=("model",), workers=2)
    assert _children() == before


# --- the chunking rule, the budget, precision ------------------------------------------------

@pytest.mark.parametrize("size", [1, 2, 3, 8])
def test_split_contiguous_balanced_and_never_one_task_per_point(size):
    for m in range(1, 400):
        bounds = parallel.split(m, size)
        assert bounds[0][0] == 0 and bounds[-1][1] == m
        assert all(e1 == s2 for (_, e1), (s2, _) in zip(bounds, bounds[1:]))
        sizes = [e - s for s, e in bounds]
        assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
        assert len(bounds) <= parallel.TASKS_PER_WORKER * size
        assert len(bounds) % size == 0 or len(bounds) == m
        if m >= parallel.MIN_TASK_POINTS * size:
            assert min(sizes) >= parallel.MIN_TASK_POINTS


class Recorder:
    """A map-like callable run in this process that records its tasks (and can drop the
    worker cache before each call, as a fresh worker process would)."""

    def __init__(self, forget=False):
        self.chunks, self.forget = [], forget

    def __call__(self, func, tasks):
        if self.forget:
            parallel._CACHE.clear()
        self.chunks.append([batch_size(t[3]) for t in tasks])    # tasks: a list
        return [func(t) for t in tasks]


def test_small_batches_and_the_first_point_run_in_process():
    rec = Recorder()
    with Objective(f32, np.ones(3), workers=rec) as obj:
        obj.f(np.ones(3))
        assert rec.chunks == []                        # one point: in-process
        X = np.arange(30.0).reshape(10, 3)
        assert np.array_equal(obj.values(X), [f32(x) for x in X])
        assert rec.chunks == [_sizes(10)] and obj.nfev == 11
    with Objective(f32, np.ones(3), workers=rec) as obj:
        obj.values(X)                                  # first point in-process: precision
        assert rec.chunks[-1] == _sizes(9) and obj.f_eps == np.finfo(np.float32).eps


def _sizes(m):
    """Chunk sizes of a batch of m points on a map of unknown size (one per core)."""
    return [e - s for s, e in parallel.split(m, parallel.cpu_count())]


def test_a_worker_that_lost_the_objective_gets_it_again():
    rec = Recorder(forget=True)
    x = np.array([0.3, -0.2, 0.1, 0.5])
    _same_estimate(curvopt.hessian(logistic, x, (A, Y), workers=rec),
                   curvopt.hessian(logistic, x, (A, Y)))
    assert len(rec.chunks) > 3                          # batches were sent again


def test_maxfev_exact_under_workers(executor):
    for maxfev in (30, 57, 101):
        a = curvopt.minimize(logistic, X0, args=(A, Y), maxfev=maxfev, workers=executor)
        b = curvopt.minimize(logistic, X0, args=(A, Y), maxfev=maxfev)
        assert a.nfev == b.nfev <= maxfev and a.status == b.status
        assert np.array_equal(a.x, b.x)
    with Objective(logistic, X0, (A, Y), maxfev=12, workers=executor) as obj:
        obj.values(np.zeros((10, 4)))
        with pytest.raises(BudgetExhausted):
            obj.values(np.zeros((3, 4)))               # would need 13: none evaluated
        assert obj.nfev == 10


# --- exceptions -------------------------------------------------------------------------

@pytest.mark.parametrize("workers", KINDS, indirect=True)
@pytest.mark.parametrize("kind, exc", [("stop", StopIteration), ("model", ModelError),
                                       ("value", ValueError)])
def test_worker_exception_keeps_its_type_and_message(workers, kind, exc):
    x = np.array([1.0, 0.0])
    with pytest.raises(exc) as serial:
        curvopt.hessian(fails_off_axis, x, (kind,), noise=0.0)
    with pytest.raises(exc) as pooled:
        curvopt.hessian(fails_off_axis, x, (kind,), noise=0.0, workers=workers)
    assert str(pooled.value) == str(serial.value)         # the same (first) failing point


def test_unpicklable_objective_is_named_before_any_evaluation(executor, monkeypatch):
    calls = []

    def counted(x, lock):
        calls.append(1)
        return float(x @ x)

    with pytest.raises(TypeError, match=r"args\[0\] cannot be sent to worker.*module level"):
        curvopt.minimize(counted, X0, args=(threading.Lock(),), workers=executor)
    assert calls == []
    before = _children()
    monkeypatch.setitem(sys.modules, "cloudpickle", None)   # plain pickle: no lambdas
    with pytest.raises(TypeError, match="fun cannot be sent.*install cloudpickle"):
        curvopt.hessian(lambda x: float(x @ x), X0, workers=2)
    assert _children() == before                    # the pool was never started


def test_threads_need_no_pickling_and_cloudpickle_sends_lambdas(threads, executor):
    lock = threading.Lock()
    serial = curvopt.hessian(logistic, X0, (A, Y))
    _same_estimate(curvopt.hessian(lambda x, lk: logistic(x, A, Y), X0, (lock,),
                                   workers=threads), serial)
    pytest.importorskip("cloudpickle")
    _same_estimate(curvopt.hessian(lambda x: logistic(x, A, Y), X0, workers=executor),
                   serial)


# --- validation, deprecation, CLI -----------------------------------------------------------

@pytest.mark.parametrize("bad, err, msg", [
    (0, ValueError, "workers must be -1 .* got 0"),
    (-2, ValueError, "got -2"),
    (True, TypeError, "workers must be an int .* got bool True"),
    (2.0, TypeError, "got float 2.0"),
    ("4", TypeError, "got str '4'"),
    (ProcessPoolExecutor, TypeError, "got the class ProcessPoolExecutor .*instance"),
    (multiprocessing.pool.ThreadPool, TypeError, "got the class ThreadPool"),
])
def test_bad_workers_are_named(bad, err, msg):
    for call in (lambda: curvopt.minimize(rosen, X0, workers=bad),
                 lambda: curvopt.hessian(rosen, X0, workers=bad),
                 lambda: curvopt.check(rosen, np.ones(4), workers=bad)):
        with pytest.raises(err, match=msg):
            call()


def test_a_pool_object_is_told_to_pass_its_map(mp_pool):
    with pytest.raises(TypeError, match="pass its .map"):
        curvopt.hessian(rosen, X0, workers=mp_pool)


def test_deprecated_parallel_means_all_cores():
    serial = curvopt.minimize(rosen, np.zeros(3))
    for call in (lambda p: curvopt.minimize(rosen, np.zeros(3), parallel=p),
                 lambda p: curvopt.hessian(rosen, np.zeros(3), parallel=p),
                 lambda p: curvopt.check(rosen, np.ones(3), parallel=p)):
        for p in (True, False):
            with pytest.warns(DeprecationWarning, match="use workers=") as rec:
                call(p)
            assert rec[0].filename == __file__            # points at the caller's line
    before = _children()
    _same_run(curvopt.minimize(rosen, np.zeros(3), workers=-1), serial)
    assert _children() == before
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = curvopt.minimize(rosen, np.zeros(3), workers=1)   # no warning without it
    _same_run(out, serial)


def test_cli_workers(capsys, tmp_path):
    code = cli_main(["check", "cli_targets:bowl", "--x", "1,-2"])
    serial = capsys.readouterr().out
    assert code == 0
    assert cli_main(["check", "cli_targets:bowl", "--x", "1,-2", "--workers", "2"]) == 0
    assert capsys.readouterr().out == serial
    assert cli_main(["check", "cli_targets:bowl", "--x", "1,-2", "--workers", "0"]) == 2
    assert "workers must be -1" in capsys.readouterr().err
    target = tmp_path / "model_file.py"          # a file path, not an importable module
    target.write_text("def f(x):\n    if x[1] != 0.0:\n        raise ValueError('bad y')\n"
                      "    return x[0] ** 2\n")
    assert cli_main(["check", f"{target}:f", "--x", "0,0", "--workers", "2"]) == 1
    assert "the function raised ValueError: bad y" in capsys.readouterr().err


def test_distributed_fit_example_quick():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    import distributed_fit
    out = distributed_fit.main(["--quick", "--no-cluster"])
    assert out["identical"] and out["classification"] == "minimum"
    assert np.all(np.abs(out["x"] - out["true"]) < 3 * out["se"])   # the truth within 3 SE


# --- a real dask cluster (last: its threads live on in this process) ---------------------

def test_minimize_on_a_dask_local_cluster():
    """~5-10 s: starting and closing the cluster dominate."""
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        ex = client.get_executor()
        _same_run(curvopt.minimize(logistic, X0, args=(A, Y), workers=ex),
                  curvopt.minimize(logistic, X0, args=(A, Y)))
        with pytest.raises(ModelError, match="bad point"):
            curvopt.hessian(fails_off_axis, np.array([1.0, 0.0]), ("model",), noise=0.0,
                            workers=ex)
    finally:
        client.close()
        cluster.close()
