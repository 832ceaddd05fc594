"""The main job: scipy's solvers stop at a saddle, curvopt escapes and certifies.

Run with ``python -m curvopt.demo``.

The function f(x, y) = x**2 - y**2 + y**4/4 has a strict saddle at (0, 0) (Hessian
eigenvalues 2 and -2) and two minima at (0, +-sqrt(2)) with f = -1. Started exactly at the
saddle, every gradient-based scipy method returns ``success=True`` at (0, 0) (measured in
``../shared/DESIGN.md``, section 1). curvopt, given function values only, detects the
negative curvature, steps along it and stops only where its certificate says "minimum".
"""
from __future__ import annotations

import numpy as np
import scipy.optimize

import curvopt


def f(z):
    """x**2 - y**2 + y**4/4: strict saddle at the origin, minima at (0, +-sqrt(2))."""
    x, y = z
    return x * x - y * y + 0.25 * y ** 4


def grad(z):
    x, y = z
    return np.array([2.0 * x, -2.0 * y + y ** 3])


def hess(z):
    _, y = z
    return np.array([[2.0, 0.0], [0.0, -2.0 + 3.0 * y * y]])


SCIPY_RUNS = (
    ("BFGS", dict(jac=grad)),
    ("Newton-CG", dict(jac=grad, hess=hess)),
    ("trust-exact", dict(jac=grad, hess=hess)),
    ("trust-ncg", dict(jac=grad, hess=hess)),
)


def _fmt(x):
    return "[" + ", ".join(f"{v:.4g}" for v in x) + "]"


def main(argv=None):
    """Run the demo; return a dict of outcomes (used by the tests)."""
    x0 = np.zeros(2)
    print("f(x, y) = x**2 - y**2 + y**4/4, started at the saddle (0, 0)\n")
    print(f"{'method':<24}{'success':>8}  {'x':<26}{'f':>8}   curvopt.check verdict")
    outcomes = {}
    for method, kw in SCIPY_RUNS:
        res = scipy.optimize.minimize(f, x0, method=method, **kw)
        cert = curvopt.check(f, res.x)
        outcomes[method] = (bool(res.success), cert.classification)
        print(f"{method:<24}{str(res.success):>8}  {_fmt(res.x):<26}{res.fun:>8.4f}   "
              f"{cert.classification}")
    res = scipy.optimize.minimize(f, x0, method=curvopt)
    outcomes["curvopt"] = (bool(res.success), res.certificate.classification)
    print(f"{'curvopt (f values only)':<24}{str(res.success):>8}  {_fmt(res.x):<26}"
          f"{res.fun:>8.4f}   {res.certificate.classification}")
    print(f"\ncurvopt: {res.message}  (nit={res.nit}, nfev={res.nfev})\n")
    print(res.certificate)
    outcomes["x"] = res.x
    return outcomes


if __name__ == "__main__":
    main()
