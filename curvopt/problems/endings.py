"""The endings of the honest-endings issue: functions where a run must not claim success at
a point that is not a minimum (offsets, far starts, unbounded and degenerate problems).

Each :class:`EndingCase` says what an honest ending is:

* ``"minimum"``      -- a (possibly degenerate) minimum exists: success, at ``x_star``
  within ``atol`` (or f within ``ftol`` of ``f_star`` where the minimizer set is a curve);
* ``"unbounded"``    -- no finite minimizer (f unbounded below, or its infimum at
  infinity): status NO_FINITE_MINIMIZER, x finite, ``diverging`` named in the message;
* ``"not_claimed"``  -- no minimizer near the start and f unbounded below along a curve:
  any status but success.

Plain numpy functions, so that tests and benchmarks can run them anywhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["EndingCase", "ending_cases", "logistic_separated", "poisson_zero_group"]


@dataclass(frozen=True, eq=False)
class EndingCase:
    """A function, a start and the honest ending (see the module docstring)."""

    name: str
    f: object
    x0: np.ndarray
    expect: str
    x_star: np.ndarray | None = None
    atol: float = 1e-6
    f_star: float | None = None
    ftol: float = 0.0
    diverging: tuple = ()
    args: tuple = ()
    note: str = ""
    names: tuple | None = field(default=None)


def logistic_separated():
    """Logistic regression, intercept + one covariate, perfectly separated (y = [x > 0]):
    the likelihood has no maximum (the slope goes to +infinity; statsmodels raises
    PerfectSeparationError)."""
    x = np.linspace(-2.0, 2.0, 20)
    y = (x > 0).astype(float)
    X = np.column_stack([np.ones_like(x), x])

    def nll(b):
        eta = X @ b
        return float(np.sum(np.logaddexp(0.0, eta) - y * eta))
    return nll


def poisson_zero_group():
    """Poisson regression on three group indicators, the third group with only zero
    counts: its coefficient's MLE is -infinity (seeded counts, rate 3)."""
    g = np.repeat([0, 1, 2], 10)
    X = np.zeros((30, 3))
    X[np.arange(30), g] = 1.0
    counts = np.random.default_rng(0).poisson(3.0, 30).astype(float)
    counts[g == 2] = 0.0

    def nll(b):
        eta = X @ b
        return float(np.sum(np.exp(eta) - counts * eta))
    return nll


def _offset(c):
    return lambda x: c + float(np.sum((x - 1.0) ** 2))


def ending_cases():
    """The cases of the issue, in its order."""
    ones = np.ones(2)
    return [
        EndingCase("offset 1e7 + |x - 1|^2", _offset(1e7), np.zeros(2), "minimum", ones,
                   atol=1e-3, note="a constant must not make x0 stationary"),
        EndingCase("|x|^2 from 1e12", lambda x: float(np.sum(x ** 2)),
                   np.array([1e12, -1e12]), "minimum", np.zeros(2), atol=1e-6),
        EndingCase("1e7 + x^2 + y^4", lambda x: 1e7 + x[0] ** 2 + x[1] ** 4, ones, "minimum",
                   np.zeros(2), atol=0.1, note="y^4: precision (4 sigma)^(1/4) ~ 0.01"),
        EndingCase("x0 - x1^2", lambda x: x[0] - x[1] ** 2, ones, "unbounded"),
        EndingCase("-|x|^2", lambda x: -float(np.sum(x ** 2)), np.zeros(2), "unbounded"),
        EndingCase("x^2 - y^4", lambda x: x[0] ** 2 - x[1] ** 4, np.array([1.0, 0.0]),
                   "unbounded", diverging=(1,)),
        EndingCase("exp(-x)", lambda x: float(np.exp(-x[0])), np.zeros(1), "unbounded",
                   diverging=(0,), note="infimum 0 at +infinity"),
        EndingCase("x^3", lambda x: float(x[0] ** 3), np.ones(1), "unbounded"),
        EndingCase("logistic, separated", logistic_separated(), np.zeros(2), "unbounded",
                   diverging=(1,), names=("const", "slope")),
        EndingCase("Poisson, all-zero group", poisson_zero_group(), np.zeros(3), "unbounded",
                   diverging=(2,), names=("g1", "g2", "g3")),
        EndingCase("x0 + 2 x1", lambda x: x[0] + 2.0 * x[1], np.zeros(2), "unbounded"),
        EndingCase("-x^4 from 0", lambda x: -float(x[0] ** 4), np.zeros(1), "unbounded"),
        EndingCase("-x^4 from 0.5", lambda x: -float(x[0] ** 4), np.array([0.5]), "unbounded"),
        EndingCase("monkey saddle", lambda x: x[0] ** 3 - 3 * x[0] * x[1] ** 2, np.zeros(2),
                   "not_claimed", note="escaped or not claimed"),
        EndingCase("Peano from 0", lambda x: (x[1] - x[0] ** 2) * (x[1] - 2 * x[0] ** 2),
                   np.zeros(2), "not_claimed", note="f rises along every line"),
        EndingCase("Peano from (1e-3, 0)",
                   lambda x: (x[1] - x[0] ** 2) * (x[1] - 2 * x[0] ** 2),
                   np.array([1e-3, 0.0]), "not_claimed"),
        EndingCase("flat valley (xy - 1)^2", lambda x: (x[0] * x[1] - 1.0) ** 2,
                   np.array([2.0, 2.0]), "minimum", f_star=0.0, ftol=1e-20,
                   note="a curve of minima"),
        EndingCase("x^2 + y^4", lambda x: x[0] ** 2 + x[1] ** 4, ones, "minimum", np.zeros(2),
                   atol=1e-3),
    ]
