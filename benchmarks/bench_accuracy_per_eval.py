"""Accuracy per evaluation: curvopt's 2n^2 + 1 Hessian vs numdifftools' fixed-step Hessian.

Issue 2 asks that, with 2n^2 + 1 evaluations, curvopt's Hessian be at least as accurate as
numdifftools' single-fixed-step central Hessian (4-point off-diagonal, diagonal at x +- 2h,
also 2n^2 + 1 evaluations). numdifftools has no step rule for that mode, so it is measured
at three steps: the textbook rule h = eps^(1/4) max(1, |x_i|) (../shared/DESIGN.md sec. 5),
and the fixed 2e-4 and 1e-3. curvopt uses its own rule (ECnoise + curvature scale; the noise
estimate adds 6-12 evaluations, counted in its nfev) and, as a check of the formulas, the
same fixed step as numdifftools (same formulas: equal up to rounding).

Error measure: rel = max|H - H_true| / max|H_true| against the analytic Hessian of the
accuracy set (curvopt.problems.accuracy, n = 100).

Run: ``python benchmarks/bench_accuracy_per_eval.py`` (about a minute); the output is
saved in benchmarks/results/bench_accuracy_per_eval.txt.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numdifftools as nd
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import curvopt  # noqa: E402
from curvopt.problems.accuracy import accuracy_problems  # noqa: E402

EPS = np.finfo(float).eps


def rel_error(H, H_true):
    return float(np.max(np.abs(H - H_true)) / np.max(np.abs(H_true)))


def row(p):
    x, H_true = p.x, p.hess(p.x)
    own = curvopt.hessian(p.f, x, error=False)
    out = {"problem": p.name, "n": x.size, "curvopt nfev": own.nfev,
           "curvopt": rel_error(own.value, H_true)}
    for label, h in (("textbook h", EPS ** 0.25 * np.maximum(1.0, np.abs(x))),
                     ("2e-4", 2e-4), ("1e-3", 1e-3)):
        out[f"nd {label}"] = rel_error(nd.Hessian(p.f, step=h, method="central")(x), H_true)
    same = curvopt.hessian(p.f, x, error=False, step=2e-4)
    out["curvopt at 2e-4"] = rel_error(same.value, H_true)
    return out


def main():
    rows = [row(p) for p in accuracy_problems()]
    keys = list(rows[0])
    print("rel = max|H - H_true| / max|H_true|; numdifftools fixed-step central Hessians "
          "use 2n^2 + 1 evaluations")
    print(" ".join(f"{k:>16}" for k in keys))
    for r in rows:
        print(" ".join(f"{r[k]:>16.2e}" if isinstance(r[k], float) else f"{r[k]:>16}"
                       for k in keys))
    ratio = [r["nd textbook h"] / r["curvopt"] for r in rows]
    print("nd(textbook h) error / curvopt error: "
          + ", ".join(f"{r['problem']} {q:.2f}" for r, q in zip(rows, ratio)))
    return rows


if __name__ == "__main__":
    main()
