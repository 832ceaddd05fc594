"""Parallel evaluation (``workers=``): when it pays, and what it costs when it does not.

1. ``hessian()`` with error bounds at n = 8 (4n^2 + 2n + 7 = 279 evaluations) of
   a CPU-bound objective (~10 ms of interpreted arithmetic per evaluation) and of one that
   waits on I/O (``time.sleep(10 ms)``): serial vs ``workers=ProcessPoolExecutor(2)``
   created once by the user (its start-up reported apart, not counted), plus
   ``ThreadPoolExecutor(8)`` for the waiting objective (waiting needs no process). Values
   and error bounds compared bit for bit.
2. ``minimize()`` of both from the same start: serial vs the same 2-process executor;
   x, nfev and the certificate compared exactly.
3. A 1 us objective (n = 8): the serial path is the serial path (what passing nothing or
   ``workers=1`` adds per call: a validation and a context manager, timed), and what
   ``workers`` costs it (an executor, curvopt's own pool started per call, ``map``).
4. Overhead per batch of the 2-process executor and of a dask LocalCluster's executor (2
   worker processes; when dask is installed), for a 1 us objective and batches of m points:
   overhead = pooled time - serial time / 2 (the ideal split), and the break-even
   evaluation time t* = 2 overhead / m above which 2 workers beat serial.

Run: ``python benchmarks/bench_parallel.py`` (~2 minutes on 2 cores); output saved in
``benchmarks/results/bench_parallel.txt``. Ratios are measured in one run; other load on
the machine lowers them (the load average is printed).
"""
from __future__ import annotations

import math
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import curvopt  # noqa: E402
from curvopt.evaluation import Changes  # noqa: E402
from curvopt.objective import Objective  # noqa: E402
from curvopt.parallel import as_workers, cpu_count, split  # noqa: E402

N = 8
X = np.linspace(-0.4, 0.9, N)
REPS = 10_000


def cpu_objective(x, reps=REPS):
    """Smooth and CPU-bound: a weighted quadratic plus the mean of ``reps`` cosines of
    linear forms in x, computed one term at a time in Python (~10 ms)."""
    xs = x.tolist()
    s = 0.0
    for k in range(reps):
        t = 0.0
        for i in range(len(xs)):
            t += xs[i] * (((k + i) % 5) - 2)
        s += math.cos(0.01 * t)
    return s / reps + sum((v - 0.5) ** 2 * (i + 1) for i, v in enumerate(xs))


def io_objective(x):
    """Waits 10 ms (a remote model, a licence server, a file), then a quadratic."""
    time.sleep(0.01)
    return float(np.sum((x - 0.5) ** 2 * np.arange(1, x.size + 1)))


def cheap_objective(x):
    """~1 us: a quadratic."""
    return float(x @ x)


def timed(fn, reps=1):
    """(result, best seconds over reps)."""
    best, out = np.inf, None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def eval_time(f, reps=20):
    return timed(lambda: [f(X) for _ in range(reps)])[1] / reps


def same_hessian(a, b):
    return (np.array_equal(a.value, b.value) and np.array_equal(a.error, b.error)
            and a.nfev == b.nfev)


def same_run(a, b):
    return (np.array_equal(a.x, b.x) and a.nfev == b.nfev and a.nit == b.nit
            and a.certificate.classification == b.certificate.classification
            and np.array_equal(a.certificate.lam, b.certificate.lam))


def interleaved(fns, reps):
    """(results, best seconds) of each function, timed in turns (fair under changing load)."""
    best, outs = [np.inf] * len(fns), [None] * len(fns)
    for _ in range(reps):
        for k, fn in enumerate(fns):
            t = time.perf_counter()
            outs[k] = fn()
            best[k] = min(best[k], time.perf_counter() - t)
    return outs, best


def hessian_table(pool, threads):
    lines = ["1. hessian() with error bounds, n = 8 (279 evaluations); pool created once "
             "(start-up not counted); best of 2, in turns",
             f"{'objective':10s} {'t_eval ms':>9s} {'workers':24s} {'time s':>7s} "
             f"{'speed-up':>8s} {'identical':>9s}"]
    for name, f in (("cpu", cpu_objective), ("io wait", io_objective)):
        te = eval_time(f, 5)
        runs = [("serial", None), ("ProcessPoolExecutor(2)", pool)]
        if name == "io wait":
            runs.append(("ThreadPoolExecutor(8)", threads))
        outs, best = interleaved([lambda w=w: curvopt.hessian(f, X, workers=w)
                                  for _, w in runs], 2)
        for k, ((label, _), r, t) in enumerate(zip(runs, outs, best)):
            head = f"{name:10s} {1e3 * te:9.2f}" if k == 0 else f"{'':10s} {'':9s}"
            same = "-" if k == 0 else str(same_hessian(r, outs[0]))
            lines.append(f"{head} {label:24s} {t:7.2f} {best[0] / t:7.2f}x {same:>9s}")
    return lines


def minimize_table(pool):
    lines = ["2. minimize() from x0 = 0.9 (n = 8): serial vs ProcessPoolExecutor(2); best of "
             "2, in turns",
             f"{'objective':10s} {'run':24s} {'time s':>7s} {'speed-up':>8s} {'nfev':>5s} "
             f"{'nit':>4s} {'class':>8s} {'x, nfev, cert identical':>24s}"]
    x0 = np.full(N, 0.9)
    for name, f in (("cpu", cpu_objective), ("io wait", io_objective)):
        (serial, par), (ts, tp) = interleaved(
            [lambda: curvopt.minimize(f, x0),
             lambda: curvopt.minimize(f, x0, workers=pool)], 2)
        for label, r, t in (("serial", serial, ts), ("ProcessPoolExecutor(2)", par, tp)):
            ident = "-" if r is serial else str(same_run(r, serial))
            lines.append(f"{name:10s} {label:24s} {t:7.2f} {ts / t:7.2f}x {r.nfev:5d} "
                         f"{r.nit:4d} {r.certificate.classification:>8s} {ident:>24s}")
    return lines


def cheap_table(pool):
    te = eval_time(cheap_objective, 10_000)
    obj = Objective(cheap_objective, X)

    def enter_exit():
        with obj:
            pass
    t_added = timed(lambda: [as_workers(None) for _ in range(1000)])[1] / 1000 + \
        timed(lambda: [enter_exit() for _ in range(1000)])[1] / 1000
    x0 = np.full(N, 0.9)
    f = cheap_objective
    groups = [("hessian", same_hessian, 20, [
        ("hessian() serial", lambda: curvopt.hessian(f, X)),
        ("hessian(workers=1)", lambda: curvopt.hessian(f, X, workers=1)),
        ("hessian(workers=map)", lambda: curvopt.hessian(f, X, workers=map)),
        ("hessian(workers=executor(2))", lambda: curvopt.hessian(f, X, workers=pool)),
        ("hessian(workers=2): own pool per call", lambda: curvopt.hessian(f, X, workers=2))]),
        ("minimize", same_run, 5, [
            ("minimize() serial", lambda: curvopt.minimize(f, x0)),
            ("minimize(workers=executor(2))", lambda: curvopt.minimize(f, x0, workers=pool)),
            ("minimize(workers=2): own pool per call",
             lambda: curvopt.minimize(f, x0, workers=2))])]
    lines = [f"3. a {1e6 * te:.2f} us objective, n = 8: hessian() (279 evaluations) and "
             f"minimize(); best of 20 (hessian) or 5 (minimize), taken in turns (the own "
             f"pool apart)",
             f"   {'call':40s} {'time ms':>9s} {'x serial':>9s} {'identical':>9s}"]
    for _, same, reps, rows in groups:
        # the own pool (last row) is timed after the others: starting and joining processes
        # slows whatever runs next
        outs, best = interleaved([fn for _, fn in rows[:-1]], reps)
        own, t_own = interleaved([rows[-1][1]], reps)
        outs, best = outs + own, best + t_own
        for (label, _), r, t in zip(rows, outs, best):
            lines.append(f"   {label:40s} {1e3 * t:9.3f} {t / best[0]:8.2f}x "
                         f"{str(same(r, outs[0])):>9s}")
        if same is same_hessian:
            t_serial = best[0]
    lines.append(f"   (minimize: nfev = {outs[0].nfev} in {outs[0].nit} iterations)")
    lines.append(f"   the option's cost to the serial path: {1e6 * t_added:.2f} us per call "
                 f"({100 * t_added / t_serial:.2f}% of the serial hessian(): as_workers(None) "
                 f"and the with-block), nothing per batch")
    lines.append("   (Objective.values and the serial backends are unchanged: the serial "
                 "figures of bench_hessian.py stand)")
    return lines


def overhead_table(executors):
    lines = ["4. overhead per batch (1 us objective; Changes batches of m points): pooled "
             "time - serial time / 2, and the break-even",
             "   t* = 2 overhead / m: 2 workers beat serial for evaluations longer than t*",
             f"   {'executor':24s} {'m':>5s} {'tasks':>5s} {'serial ms':>10s} "
             f"{'pooled ms':>10s} {'overhead ms':>11s} {'t* ms':>8s}"]
    rng = np.random.default_rng(0)
    for label, ex in executors:
        for m in (8, 128, 2048):
            batch = Changes(X, rng.integers(0, N, m), rng.normal(size=m),
                            np.full(m, -1), np.zeros(m))
            with Objective(cheap_objective, X) as s, \
                    Objective(cheap_objective, X, workers=ex) as p:
                p.f(X)                                   # the first point runs in-process
                p.values(batch)                          # the objective reaches the workers
                _, (ts, tp) = interleaved([lambda: s.values(batch),
                                           lambda: p.values(batch)], 10)
            over = tp - ts / 2                           # beyond the ideal 2-worker split
            lines.append(f"   {label:24s} {m:5d} {len(split(m, 2)):5d} {1e3 * ts:10.3f} "
                         f"{1e3 * tp:10.3f} {1e3 * over:11.3f} {2e3 * over / m:8.4f}")
    return lines


def _twenty(_):
    """20 evaluations of the CPU-bound objective (a task for :func:`capacity`)."""
    for _ in range(20):
        cpu_objective(X)


def capacity(pool):
    """Throughput of 2 processes over 1 on the CPU-bound objective (no curvopt involved):
    the ceiling of any 2-worker speed-up on this machine at this moment."""
    _, (t1, t2) = interleaved([lambda: _twenty(0),
                               lambda: list(pool.map(_twenty, [0, 1]))], 2)
    return 2 * t1 / t2


def dask_executor():
    """(client, cluster, executor, start-up seconds) of a 2-process LocalCluster, or None."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        return None
    t = time.perf_counter()
    cluster = LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                           dashboard_address=None, silence_logs=40)
    client = Client(cluster)
    ex = client.get_executor()
    list(ex.map(abs, [1, 2]))
    return client, cluster, ex, time.perf_counter() - t


def main():
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [f"cores: {cpu_count()}, load average at start: {load:.2f}; "
             f"python {sys.version.split()[0]}, start method of the own pool: "
             f"{multiprocessing.get_start_method()}"]
    t = time.perf_counter()
    pool = ProcessPoolExecutor(2)
    list(pool.map(abs, [1, 2]))
    lines.append(f"ProcessPoolExecutor(2): start-up and first task "
                 f"{time.perf_counter() - t:.3f} s (not counted below)")
    threads = ThreadPoolExecutor(8)
    dask = None
    try:
        lines.append(f"capacity: 2 processes evaluate the CPU-bound objective "
                     f"{capacity(pool):.2f}x as fast as 1 (the ceiling of the speed-ups "
                     f"below; a shared host gives less than 2)")
        for part in (hessian_table, minimize_table, cheap_table):
            lines += [""] + (part(pool, threads) if part is hessian_table else part(pool))
            print("\n".join(lines[-4:]), flush=True)
        dask = dask_executor()
        executors = [("ProcessPoolExecutor(2)", pool)]
        if dask is not None:
            executors.append(("dask LocalCluster(2)", dask[2]))
        lines += [""] + overhead_table(executors)
        lines.append(f"capacity at the end: {capacity(pool):.2f}x")
        lines.append("   dask LocalCluster (2 processes): not installed" if dask is None else
                     f"   dask LocalCluster (2 processes): start-up and first tasks "
                     f"{dask[3]:.2f} s")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        threads.shutdown(wait=True)
        if dask is not None:
            dask[0].close()
            dask[1].close()
    text = "\n".join(lines)
    print("\n" + text)
    out = ROOT / "benchmarks" / "results" / "bench_parallel.txt"
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
