"""How curvopt ends on the cases of the honest-endings issue, one row per case.

Each case (:mod:`curvopt.problems.endings`: offsets, far starts, unbounded and degenerate
problems) is run with ``curvopt.minimize(f, x0)`` and default options, function values
only. The table prints the status, success, f and x at the end, what the certificate
says (its class and how stationarity was decided, or the probe that showed no finite
minimizer) and whether the ending is the honest one the case names:

* ``minimum``     -- success, at the known minimizer within the case's tolerance;
* ``unbounded``   -- NO_FINITE_MINIMIZER with x finite and the diverging parameters named;
* ``not claimed`` -- anything but success.

A second table runs f + c for c in {0, 1e3, 1e7} (f = ||x - 1||^2 from 0): the same status
and an end point within the precision the constant leaves, sqrt(2 eps |c| / lam_min).
A third: case 3 (mtcars, the nested logistic fit of examples/mtcars_fit.py) from (-4, 4).

Run: ``python benchmarks/bench_endings.py`` (a few seconds); output saved in
``benchmarks/results/bench_endings.txt``.
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

import curvopt
from curvopt.problems.endings import ending_cases
from curvopt.status import Status

ROOT = Path(__file__).resolve().parents[1]


def honest(case, res):
    """Does the run end as the case says an honest run ends?"""
    if case.expect == "minimum":
        ok = res.success
        if case.x_star is not None:
            ok = ok and np.abs(res.x - case.x_star).max() <= case.atol
        if case.f_star is not None:
            ok = ok and abs(res.fun - case.f_star) <= case.ftol
        return ok
    if case.expect == "unbounded":
        named = all((case.names[i] if case.names else f"x[{i}]") in res.message
                    for i in case.diverging)
        return res.status == Status.NO_FINITE_MINIMIZER and named and np.all(np.isfinite(res.x))
    return not res.success


def evidence(res):
    if res.status == Status.NO_FINITE_MINIMIZER and res.get("ray") is not None:
        return {"unbounded": f"falls along a ray to {res.ray.t_far:.1g}",
                "asymptote": "fell; flat ahead (asymptote)",
                "path": "falls along a curved path"}[res.ray.outcome]
    c = res.certificate
    if c is None:
        return "-"
    how = f" ({c.stationarity})" if c.stationarity else ""
    return c.classification + how + (" + probes" if c.evidence else "")


def fmt_x(x):
    x = np.asarray(x, dtype=float)
    s = ", ".join(f"{v:.4g}" for v in x[:3])
    return f"[{s}{', ...' if x.size > 3 else ''}]"


def case_table():
    rows = []
    for case in ending_cases():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = curvopt.minimize(case.f, case.x0, names=case.names)
        rows.append((case.name, Status(res.status).name, res.success, res.fun, fmt_x(res.x),
                     evidence(res), res.nfev, case.expect, honest(case, res)))
    head = (f"{'case':26s} {'status':20s} {'success':>7s} {'f':>12s} {'x':28s} "
            f"{'certificate / evidence':30s} {'nfev':>5s} {'honest ending':>14s}")
    lines = [head, "-" * len(head)]
    for name, st, ok, f, x, ev, nfev, expect, good in rows:
        lines.append(f"{name:26s} {st:20s} {str(ok):>7s} {f:12.5g} {x:28s} {ev:30s} "
                     f"{nfev:5d} {expect + (' yes' if good else ' NO'):>14s}")
    lines.append(f"honest endings: {sum(r[-1] for r in rows)}/{len(rows)}")
    return lines


def offset_table():
    lines = [f"{'c':>6s} {'status':10s} {'max |x - 1|':>12s} {'sqrt(2 eps c / 2)':>18s}"]
    for c in (0.0, 1e3, 1e7):
        res = curvopt.minimize(lambda x, c=c: c + float(np.sum((x - 1.0) ** 2)), np.zeros(2))
        prec = np.sqrt(2 * np.finfo(float).eps * max(c, 1.0) / 2.0)
        lines.append(f"{c:6.0e} {Status(res.status).name:10s} "
                     f"{np.abs(res.x - 1.0).max():12.2e} {prec:18.2e}")
    return lines


def mtcars_line():
    sys.path.insert(0, str(ROOT / "examples"))
    import mtcars_fit
    a, b, y = mtcars_fit.standardized_data()
    res = curvopt.minimize(mtcars_fit.loss, np.array([-4.0, 4.0]), args=(a, b, y))
    return [f"case 3 (mtcars) from (-4, 4): {Status(res.status).name}, L = {res.fun:.6f} at "
            f"{fmt_x(res.x)} (BFGS, L-BFGS-B, Newton-CG: 27.589401)"]


def main():
    lines = case_table() + [""] + offset_table() + [""] + mtcars_line()
    text = "\n".join(lines)
    print(text)
    out = ROOT / "benchmarks" / "results" / "bench_endings.txt"
    out.write_text(text + "\n")


if __name__ == "__main__":
    main()
