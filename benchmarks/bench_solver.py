"""curvopt's solver against scipy's second-order and quasi-Newton methods, one run.

Methods (each on every More-Garbow-Hillstrom problem and every strict-saddle start):

* ``curvopt``       function values only (no jac, no hess);
* ``te-fd``         scipy trust-exact with scipy's finite differences: jac = 3-point
                    ``approx_derivative`` of f (2n evaluations), hess = 3-point
                    ``approx_derivative`` of that FD gradient (2n gradients = 4n^2
                    evaluations), i.e. the 4n^2 + 2n evaluations per iteration of the issue
                    (trust-exact refuses hess='2-point' without a callable jac);
* ``te-exact``      scipy trust-exact with the exact gradient and Hessian;
* ``newton-cg``     scipy Newton-CG with the exact gradient and Hessian;
* ``bfgs``          scipy BFGS with its default forward-difference gradient.

Judged with the problem's EXACT derivatives at the returned point, identically for every
method: solved = f within 1e-6 max(1, |t|) of f_star or of a documented local-minimum value
t, OR within the published precision of t: MGH (1981) print 6 significant digits, so a
value t printed that way (non-integer, equal to itself rounded to 6 digits) is known to one
unit in its 6th digit, 10^(floor(log10 |t|) - 5) (a full unit: the printed digits are
truncated as well as rounded, e.g. freudenstein_roth's local 48.9842 is 48.9842537 and
jennrich_sampson's 124.362 is 124.3621824); exact values (0, the integers and closed forms
of the linear problems) use the first test only. For f_star much below 1 the first test
is absolute (1e-6): gaussian (f* = 1.13e-8, f(x0) = 3.9e-6) counts as solved by any point
with f < 1.001e-6;
ended at saddle = exact lam_min < -1e-6 ||H|| with exact ||g|| <= 1e-3 max(1, |f|);
false success = success=True but exact lam_min < -1e-6 ||H||, or not stationary: exact
||g|| > 1e-3 max(1, |f|) and exact Newton decrement g'H^+ g / 2 (the decrease of f left,
over the eigenvalues > 1e-14 ||H||) > 1e-10 max(1, |f|) -- a stiff coordinate at its
rounding level (Meyer: ||g|| ~ 0.1 with f = 87.9458551706, converged to 12 digits) is
stationary. Evaluations: calls of f (plus, for exact methods, calls of jac and hess
shown separately). Ratios are per problem curvopt / peer, summarized by their median,
over the problems both solve.

Run: ``python benchmarks/bench_solver.py`` (about 20 s on 2 cores); output saved in
``benchmarks/results/bench_solver.txt``. ``--quick``: only the problems with n <= 4.
``--only NAME [NAME ...]``: only those problems.
"""
from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np
from scipy.optimize import minimize as sp_minimize
from scipy.optimize._numdiff import approx_derivative

from curvopt.api import minimize as co_minimize
from curvopt.problems.mgh import mgh_problems
from curvopt.problems.saddles import saddle_problems

TARGETS = ("brown_badly_scaled", "meyer", "gaussian", "penalty_1_4", "penalty_1_10")


class Counted:
    """f with a call counter."""

    def __init__(self, f):
        self.f, self.n = f, 0

    def __call__(self, x):
        self.n += 1
        return self.f(x)


def run_method(name, p):
    f = Counted(p.f)
    x0 = p.start()
    t0 = time.perf_counter()
    try:
        if name == "curvopt":
            res = co_minimize(f, x0)
        elif name == "te-fd":
            jac = lambda x: approx_derivative(f, x, method="3-point")
            hess = lambda x: approx_derivative(jac, x, method="3-point")
            res = sp_minimize(f, x0, method="trust-exact", jac=jac, hess=hess)
        elif name == "te-exact":
            res = sp_minimize(f, x0, method="trust-exact", jac=p.grad, hess=p.hess)
        elif name == "newton-cg":
            res = sp_minimize(f, x0, method="Newton-CG", jac=p.grad, hess=p.hess)
        else:
            res = sp_minimize(f, x0, method="BFGS")
        x, fun, success = res.x, float(res.fun), bool(res.success)
    except Exception as exc:                       # a peer's crash is a failed run
        x, fun, success = x0, np.nan, False
        print(f"  {name} on {p.name} raised {type(exc).__name__}: {exc}")
    return dict(x=x, fun=fun, success=success, nfev=f.n, time=time.perf_counter() - t0)


def published_precision(t):
    """One unit in the 6th significant digit when t is printed with 6 significant
    digits (MGH 1981), else 0 (exact values: 0, integers, closed forms)."""
    if t == 0 or float(t).is_integer() or float(f"{t:.6g}") != t:
        return 0.0
    return 10.0 ** (math.floor(math.log10(abs(t))) - 5)


def is_solved(fun, targets):
    """|f - t| <= max(1e-6 max(1, |t|), published precision of t) for some target t."""
    return bool(np.isfinite(fun)) and any(
        abs(fun - t) <= max(1e-6 * max(1.0, abs(t)), published_precision(t)) for t in targets)


def newton_decrement(H, g):
    """g'H^+ g / 2 over the eigenvalues of H above 1e-14 ||H|| (inf if one is negative
    beyond that)."""
    lam, V = np.linalg.eigh(0.5 * (H + H.T))
    tol = 1e-14 * np.max(np.abs(lam))
    if lam[0] < -tol:
        return np.inf
    keep = lam > tol
    return 0.5 * float(np.sum((V[:, keep].T @ g) ** 2 / lam[keep]))


def judge(p, r):
    targets = ([p.f_star] if p.f_star is not None else []) + list(p.f_local)
    fun = p.f(r["x"]) if np.all(np.isfinite(r["x"])) else np.nan
    r["solved"] = is_solved(fun, targets)
    with np.errstate(all="ignore"):
        H = p.hess(r["x"])
        g = np.linalg.norm(p.grad(r["x"]))
    ok = np.all(np.isfinite(H)) and np.isfinite(g)
    lam = np.linalg.eigvalsh(0.5 * (H + H.T)) if ok else np.array([np.nan])
    neg = ok and lam[0] < -1e-6 * np.max(np.abs(lam))
    small_g = ok and (g <= 1e-3 * max(1.0, abs(fun))
                      or newton_decrement(H, p.grad(r["x"])) <= 1e-10 * max(1.0, abs(fun)))
    r["saddle"] = bool(neg and small_g)
    r["false_success"] = bool(r["success"] and (neg or not small_g))
    return r


METHODS = ("curvopt", "te-fd", "te-exact", "newton-cg", "bfgs")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only problems with n <= 4")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="only these problems")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    problems = [(p, "mgh") for p in mgh_problems()] + [(p, "saddle") for p in saddle_problems()]
    if args.quick:
        problems = [(p, k) for p, k in problems if p.n <= 4]
    if args.only:
        problems = [(p, k) for p, k in problems if p.name in args.only]
    rows = []
    print(f"{'problem':34s} {'n':>3s} " + " ".join(f"{m:>16s}" for m in METHODS))
    for p, kind in problems:
        res = {m: judge(p, run_method(m, p)) for m in METHODS}
        rows.append((p, kind, res))
        cells = []
        for m in METHODS:
            r = res[m]
            flag = "S" if r["solved"] else ("!" if r["false_success"] else
                                            ("s" if r["saddle"] else "-"))
            cells.append(f"{flag} {r['nfev']:>8d} {r['time']*1e3:6.0f}")
        print(f"{p.name:34s} {p.n:3d} " + " ".join(f"{c:>16s}" for c in cells), flush=True)
    print("\ncell: flag nfev ms   flag S solved, ! claimed success but not a local minimum, "
          "s ended at a saddle, - other failure")
    summarize(rows)


def summarize(rows):
    print(f"\n{'method':12s} {'solved':>7s} {'at saddle':>10s} {'false succ':>11s} "
          f"{'saddle esc':>11s}")
    for m in METHODS:
        solved = sum(r[m]["solved"] for _, _, r in rows)
        sad = sum(r[m]["saddle"] for _, _, r in rows)
        false = sum(r[m]["false_success"] for _, _, r in rows)
        esc = sum(r[m]["solved"] for _, k, r in rows if k == "saddle")
        n_sad = sum(k == "saddle" for _, k, _ in rows)
        print(f"{m:12s} {solved:7d} {sad:10d} {false:11d} {esc:8d}/{n_sad}")
    print(f"\ntotal problems: {len(rows)}")
    any_scipy = [p.name for p, _, r in rows if any(r[m]["solved"] for m in METHODS[1:])]
    missed = [n for n in any_scipy if not dict((p.name, r) for p, _, r in rows)[n]["curvopt"]["solved"]]
    print(f"solved by some scipy method but not by curvopt: {missed or 'none'}")
    by = {p.name: r for p, _, r in rows}
    print("badly scaled targets solved by curvopt: "
          + ", ".join(f"{t}={'yes' if by[t]['curvopt']['solved'] else 'NO'}" for t in TARGETS if t in by))
    print("\nratios curvopt / peer on problems both solve (median over problems):")
    print(f"{'peer':12s} {'common':>7s} {'nfev ratio':>11s} {'time ratio':>11s} "
          f"{'median nfev curvopt':>20s} {'median nfev peer':>17s}")
    for m in METHODS[1:]:
        common = [r for _, _, r in rows if r["curvopt"]["solved"] and r[m]["solved"]]
        if not common:
            continue
        fr = np.median([r["curvopt"]["nfev"] / max(r[m]["nfev"], 1) for r in common])
        tr = np.median([r["curvopt"]["time"] / r[m]["time"] for r in common])
        print(f"{m:12s} {len(common):7d} {fr:11.3f} {tr:11.3f} "
              f"{np.median([r['curvopt']['nfev'] for r in common]):20.0f} "
              f"{np.median([r[m]['nfev'] for r in common]):17.0f}")
    print("(te-exact, newton-cg also call the exact jac and hess, not counted in nfev; "
          "bfgs counts its finite-difference gradient calls)")


def save(argv=None):
    """main(), its output also written to benchmarks/results/bench_solver.txt on a full run."""
    import contextlib
    import io
    import sys
    from pathlib import Path
    buf = io.StringIO()

    class Tee(io.TextIOBase):
        def write(self, s):
            sys.__stdout__.write(s)
            buf.write(s)
            return len(s)
    with contextlib.redirect_stdout(Tee()):
        main(argv)
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        out = Path(__file__).resolve().parent / "results" / "bench_solver.txt"
        out.write_text(buf.getvalue())


if __name__ == "__main__":
    save()
