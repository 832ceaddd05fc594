"""Finite-difference Hessian benchmark: speed, accuracy and error-bound honesty.

    python benchmarks/bench_hessian.py            # full run, writes results/bench_hessian.txt
    python benchmarks/bench_hessian.py --quick    # n = 10, 50 and no slow peers

1. Speed on ``@njit`` objectives at n = 10, 50, 100, 200: time / (evaluations x one
   evaluation's time), one evaluation timed in a compiled loop (no Python call; timed
   before and after each timing, which it divides), for the compiled loop over the
   stencil's description alone, curvopt's cheap model (2n^2 evaluations, what the solver
   calls), ``hessian(error=False)`` (2n^2 + 1 and the noise estimate's 6 or 12) and
   ``hessian()`` with bounds (4n^2 + 2n + 1 and the noise estimate's), evaluations as each
   call reports them.  Peers on
   the same function: numdifftools.Hessian (default steps), scipy.differentiate.hessian
   (given a compiled vectorized wrapper), statsmodels approx_hess3; reported as their
   time / curvopt ``hessian(error=False)`` time and their evaluation counts (numdifftools
   and scipy only where they take seconds, not minutes: n <= 100 and n <= 50).
2. Accuracy on the accuracy set (n = 100): max |H - H_true| / max |H_true|; curvopt and
   numdifftools at the same fixed step (same formulas: must agree); the fraction of
   entries where each error estimate covers the true error, and curvopt's median
   bound / true-error ratio.
3. JIT: compile time of the first call, and a second process with ``cache=True``.

Against an earlier commit of curvopt itself (both trees timed in one run under the same
t_eval method): ``benchmarks/compare_hessian_baseline.py``.
"""
from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
from numba import njit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from curvopt.differentiate import hessian  # noqa: E402
from curvopt.model import local_model  # noqa: E402
from curvopt.objective import Objective  # noqa: E402
from curvopt.problems.accuracy import _rosen_jit, accuracy_problems, rosenbrock  # noqa: E402

sys.path.insert(1, str(Path(__file__).resolve().parent))
from hessian_common import best_time, eval_timer, logistic100  # noqa: E402


def eval_time(f, x, args, samples=5):
    """Median of ``samples`` measurements of :func:`eval_timer` (one alone is noisy on a
    shared machine: 36 and 58 ns for the same 54 ns Rosenbrock)."""
    timer = eval_timer(f, x, args)
    return float(np.median([timer() for _ in range(samples)]))


def vectorize(f, args, count=None):
    """scipy.differentiate's calling convention (x of shape (n, ...)) over a compiled loop."""
    @njit
    def v(X):
        out = np.empty(X.shape[1])
        for k in range(X.shape[1]):
            out[k] = f(np.ascontiguousarray(X[:, k]), *args)
        return out

    def fvec(X):
        X2 = np.ascontiguousarray(X.reshape(X.shape[0], -1))
        if count is not None:
            count[0] += X2.shape[1]
        return v(X2).reshape(X.shape[1:])
    return fvec


def peers(f, x, args, slow, with_scipy):
    """{name: (time, nfev)} for the peers on the same function."""
    import numdifftools as nd
    import scipy.differentiate as sd
    from statsmodels.tools.numdiff import approx_hess3
    count = [0]

    def fc(y):
        count[0] += 1
        return f(y, *args)
    fvec = vectorize(f, args, count)
    fvec(x[:, None])                       # compile the wrapper outside the timing
    runs = {"statsmodels": lambda g: approx_hess3(x, g)}
    if slow:
        runs["numdifftools"] = lambda g: nd.Hessian(g)(x)
    if slow and with_scipy:
        runs["scipy"] = lambda g: sd.hessian(fvec, x).ddf
    out = {}
    for name, run in runs.items():
        count[0] = 0
        if name == "scipy":
            t = time.perf_counter()
            sd.hessian(fvec, x)
            out[name] = (time.perf_counter() - t, count[0])
            continue
        run(fc)
        t = best_time(lambda: run(lambda y: f(y, *args)), 1 if name != "statsmodels" else 2)
        out[name] = (t, count[0])
    return out


def _stencil_batch(x):
    """The Hessian stencil of x as a PairBatch, with default steps (what the kernel
    evaluates)."""
    from curvopt.fd.stencils import hessian_batch, pair_index
    n = x.shape[0]
    return hessian_batch(x, np.full(n, 1.2e-4) * np.maximum(1, np.abs(x)), *pair_index(n))[0]


def call_overhead():
    """Per-call costs at n = 10 (200 evaluations): building the stencil's description, the
    compiled loop over it, and the floor: one dispatcher call from Python."""
    p = rosenbrock(10)
    obj = Objective(_rosen_jit, p.x)
    batch = _stencil_batch(p.x)
    obj.values(batch)
    out = {"describe": best_time(lambda: _stencil_batch(p.x), 3000),
           "loop": best_time(lambda: obj.backend(batch, 10), 3000),
           "floor": best_time(lambda: _rosen_jit(p.x), 3000)}
    te = eval_time(_rosen_jit, p.x, ())
    print(f"   one stencil at n = 10 ({len(batch)} evaluations of {te * 1e9:.0f} ns ="
          f" {len(batch) * te * 1e6:.1f} us): the compiled loop {out['loop'] * 1e6:.1f} us,"
          f" building its description {out['describe'] * 1e6:.1f} us;"
          f" floor: one dispatcher call from Python f(x) {out['floor'] * 1e6:.2f} us")
    return out


def row_timings(f, x, args, reps, rounds=3):
    """({column: (ratio, time, nfev)}, t_eval samples) for one row of the speed table.

    Each column is timed in ``rounds`` passes over the columns (each the best of ``reps``
    calls), and one compiled evaluation is timed before the first column
    and after each: a pass's ratio divides its time by nfev x the mean of the two t_eval
    samples around it (the machine state it ran in), the column's ratio is the median
    over the passes, its time the best. nfev: the stencil's length for the kernel, the
    evaluations each call reports for the others.
    """
    n = x.shape[0]
    obj = Objective(f, x, args)
    f0 = obj.f(x)
    batch = _stencil_batch(x)
    runs = {"kernel": lambda: obj.backend(batch, n),
            "cheap": lambda: local_model(obj, x, f0=f0, errors=False),
            "err=F": lambda: hessian(f, x, args, error=False),
            "full": lambda: hessian(f, x, args)}
    nfev = {"kernel": len(batch), **{k: run().nfev for k, run in runs.items() if k != "kernel"}}
    timer = eval_timer(f, x, args)
    times, ratios, te = {k: [] for k in runs}, {k: [] for k in runs}, [timer()]
    for _ in range(rounds):
        for name, run in runs.items():
            times[name].append(best_time(run, reps))
            te.append(timer())
            ratios[name].append(times[name][-1] / (nfev[name] * 0.5 * (te[-2] + te[-1])))
    return {k: (float(np.median(ratios[k])), min(times[k]), nfev[k]) for k in runs}, te


def speed_table(ns, slow):
    print("1. Speed: ratio = time / (nfev x one compiled evaluation); peers: time / curvopt"
          " hessian(error=False), and nfev")
    print(f"{'objective':>10} {'n':>4} {'t_eval':>8} {'kernel':>6} {'cheap':>6} {'err=F':>6} {'full':>6} "
          f"{'full ms':>8} {'statsmodels':>16} {'numdifftools':>18} {'scipy':>18}")
    objectives = [("rosenbrock", lambda n: (_rosen_jit, rosenbrock(n).x, ())),
                  ("logistic", lambda n: (logistic100, 0.1 * np.ones(n),
                                          (np.random.default_rng(9).standard_normal((100, n)),)))]
    floor, spread = None, []
    for name, make in objectives:
        for n in ns:
            f, x, args = make(n)
            reps = 400 if n <= 10 else 40 if n <= 50 else 5 if n <= 100 else 2   # per pass
            cols, samples = row_timings(f, x, args, reps)
            te = float(np.median(samples))
            spread.append(max(samples) / min(samples))
            if floor is None:
                floor = (best_time(lambda: f(x, *args), 3000), cols["kernel"][2] * te,
                         cols["kernel"][1])
            ratio = {k: r for k, (r, _, _) in cols.items()}
            row = (f"{name:>10} {n:>4} {te * 1e9:>6.0f}ns {ratio['kernel']:>6.2f} "
                   f"{ratio['cheap']:>6.2f} {ratio['err=F']:>6.2f} {ratio['full']:>6.2f} "
                   f"{cols['full'][1] * 1e3:>8.2f}")
            th = cols["err=F"][1]
            ref = peers(f, x, args, slow and n <= 100, n <= 50)
            for peer in ("statsmodels", "numdifftools", "scipy"):
                res = ref.get(peer)
                row += f" {'-':>16}" if res is None else f" {res[0] / th:>7.1f}x {res[1]:>8d}"
            print(row, flush=True)
    print(f"   floor at n = {min(ns)} (rosenbrock): one dispatcher call from Python"
          f" {floor[0] * 1e6:.2f} us; the compiled loop {floor[2] * 1e6:.1f} us for"
          f" {floor[1] * 1e6:.1f} us of evaluations")
    print("   kernel = the compiled loop over the stencil's description alone, cheap ="
          " local_model(errors=False),\n   err=F = hessian(error=False), full = hessian();"
          " nfev as each call reports it (f(x) and the noise estimate included);\n"
          "   t_eval: a compiled loop of evaluations (best of 3 loops of ~20 ms), timed before"
          " and after each timing; each ratio is the\n   median over 3 passes of the pass's"
          " time / (nfev x the mean of its two t_eval timings); t_eval column: the median"
          "\n   of the row's 13 t_eval timings (their max/min over the rows:"
          f" {min(spread):.2f}-{max(spread):.2f}); kernel ~ 1 checks t_eval;\n"
          "   peer cells: time ratio, nfev")


def accuracy_table(slow):
    import numdifftools as nd
    print("\n2. Accuracy on the accuracy set (n = 100); rel = max|H - H_true| / max|H_true|")
    print(f"{'problem':>10} {'curvopt':>9} {'covered':>8} {'median':>7} {'fixed h':>9} "
          f"{'nd fixed h':>10} {'nd default':>10} {'nd cover':>8} {'scipy':>9} {'sp cover':>8}")
    for p in accuracy_problems():
        f = (lambda y, p=p: p.f_jit(y, *p.args))
        Ht = p.hess(p.x)
        sc = np.abs(Ht).max()
        r = hessian(p.f_jit, p.x, p.args)
        E = np.abs(r.value - Ht)
        nz = E > 0
        h = 2e-4
        rf = hessian(p.f_jit, p.x, p.args, step=h, noise=0.0, error=False)
        Hn = nd.Hessian(f, step=h)(p.x)
        row = (f"{p.name:>10} {E.max() / sc:>9.1e} {np.mean(r.error >= E):>8.3f} "
               f"{np.median(r.error[nz] / E[nz]):>7.1f} {np.abs(rf.value - Ht).max() / sc:>9.1e} "
               f"{np.abs(Hn - Ht).max() / sc:>10.1e}")
        if slow:
            info = nd.Hessian(f, full_output=True)(p.x)
            Hd = info.estimate
            row += (f" {np.abs(Hd - Ht).max() / sc:>10.1e} "
                    f"{np.mean(info.error_estimate >= np.abs(Hd - Ht)):>8.3f}")
        if slow and p.name == "rosenbrock":
            import scipy.differentiate as sd
            sr = sd.hessian(vectorize(p.f_jit, p.args), p.x)
            row += (f" {np.abs(sr.ddf - Ht).max() / sc:>9.1e} "
                    f"{np.mean(sr.error >= np.abs(sr.ddf - Ht)):>8.3f}")
        print(row, flush=True)
    print("   covered: fraction of entries with bound >= |error|; median: median bound/|error|"
          " over entries with nonzero error; fixed h = 2e-4 with 2n^2 + 1 evaluations;\n"
          "   scipy.differentiate only on rosenbrock (~7e6 evaluations at n = 100: minutes on"
          " the others)")


CHILD = """
import sys, time; t0 = time.perf_counter()
import numpy as np
from curvopt.differentiate import hessian
from curvopt.problems.accuracy import _rosen_jit
t1 = time.perf_counter(); x = np.tile([-1.2, 1.0], 5)
hessian(_rosen_jit, x); t2 = time.perf_counter()
hessian(_rosen_jit, x); t3 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {t3 - t2:.4f}")
"""


def jit_table():
    print("\n3. JIT (fresh processes; cache=True on the objective and the objective-independent"
          " kernels)")
    print(f"{'process':>8} {'import s':>9} {'first call s':>13} {'second call s':>14}")
    for k in (1, 2):
        out = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
        print(f"{k:>8} {float(out[0]):>9.3f} {float(out[1]):>13.3f} {float(out[2]):>14.4f}")
    print("   the first call compiles the evaluation loops this objective uses (closures over"
          " its dispatcher: numba\n   cannot cache them across processes, the key holds the"
          " dispatcher); the rest is loaded from the cache")
    call_overhead()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="n = 10, 50 and no slow peers")
    quick = ap.parse_args().quick
    buf = io.StringIO()

    class Tee(io.TextIOBase):
        def write(self, s):
            sys.__stdout__.write(s)
            buf.write(s)
            return len(s)
    with redirect_stdout(Tee()):
        jit_table()
        print()
        speed_table((10, 50) if quick else (10, 50, 100, 200), slow=not quick)
        accuracy_table(slow=not quick)
    if not quick:
        (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
        (ROOT / "benchmarks" / "results" / "bench_hessian.txt").write_text(buf.getvalue())


if __name__ == "__main__":
    main()
