"""Helpers shared by the Hessian benchmarks (bench_hessian.py, compare_hessian_baseline.py):
one compiled evaluation's time, a best-of timer, and the logistic objective. Imports
nothing from curvopt, so a baseline tree's child process can use it beside its own curvopt.
"""
import time

import numpy as np
from numba import njit


@njit(cache=True)
def logistic100(w, A):
    """Logistic NLL over the 100 rows of A (labels: row parity): ~100 n flops."""
    s = 0.0
    for k in range(A.shape[0]):
        z = 0.0
        for j in range(A.shape[1]):
            z += A[k, j] * w[j]
        s += max(z, 0.0) + np.log1p(np.exp(-abs(z))) - (k % 2) * z
    return s


def best_time(fn, reps):
    best = np.inf
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def eval_timer(f, x, args):
    """A function returning one compiled evaluation time of ``f(x, *args)`` (seconds): a
    compiled loop of k evaluations (k: ~20 ms), the best of 3 runs divided by k. Compiled
    and calibrated once, so that it can be sampled many times between other timings."""
    @njit
    def loop(x, args, k):
        s = 0.0
        for _ in range(k):
            x[0] += 1e-300
            s += f(x, *args)
        return s
    loop(x.copy(), args, 10)
    k = max(1000, int(2e-2 / max(best_time(lambda: loop(x.copy(), args, 1000), 3) / 1000, 1e-9)))
    return lambda: best_time(lambda: loop(x.copy(), args, k), 3) / k
