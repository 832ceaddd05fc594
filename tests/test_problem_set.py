"""The More-Garbow-Hillstrom set and the strict-saddle set, function values only.

The solver gets no jac/hess; the EXACT derivatives of each problem (problem.grad,
problem.hess) judge the outcome:

* no run returns success=True at a point whose exact Hessian has an eigenvalue below
  -1e-6 ||H||_2 or whose exact gradient exceeds the certified tolerance
  gtol max(1, |f|). The curvature tolerance is relative to ||H||_2 because a
  function-values Hessian resolves eigenvalues only to ~sqrt(eps) ||H|| at best, and a
  point next to a degenerate minimum (a manifold of minimizers, as in matrix
  factorization) has exact eigenvalues of order its distance to the manifold;
* every saddle start ends at a certified (possibly degenerate) minimum strictly below the
  saddle value;
* the set is mostly solved: a regression floor on the count of runs that reach f_star
  (or a documented other local minimum value).

The whole set runs in seconds (n <= 14), so every problem is in the suite.
"""
import warnings

import numpy as np
import pytest

from curvopt.api import minimize
from curvopt.problems.mgh import mgh_problems
from curvopt.problems.saddles import saddle_problems

GTOL = 1e-5
MGH = mgh_problems()
SADDLES = saddle_problems()


def run(problem):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # overflow inside f at trials
        return minimize(problem.f, problem.start(), gtol=GTOL)


def published_precision(t):
    """One unit in the 6th significant digit of a value MGH print with 6 digits, else 0
    (the criterion of benchmarks/bench_solver.py: 48.9842 is 48.9842537...)."""
    if t == 0 or float(t).is_integer() or float(f"{t:.6g}") != t:
        return 0.0
    return 10.0 ** (np.floor(np.log10(abs(t))) - 5)


def reaches(problem, f):
    targets = ([problem.f_star] if problem.f_star is not None else []) + list(problem.f_local)
    return any(abs(f - t) <= max(1e-6 * max(1.0, abs(t)), published_precision(t))
               for t in targets)


def assert_honest(problem, res):
    if not res.success:
        return
    H = problem.hess(res.x)
    lam = np.linalg.eigvalsh(0.5 * (H + H.T))
    norm_H = max(abs(lam[0]), abs(lam[-1]))
    assert lam[0] >= -1e-6 * norm_H, (problem.name, lam[0], norm_H)
    g = problem.grad(res.x)
    # stationary: a small gradient, or (a stiff coordinate at its rounding level) the
    # exact Newton decrement g'H^+ g / 2 -- the decrease of f left -- below 1e-10 |f|
    small = np.linalg.norm(g) <= GTOL * max(1.0, abs(res.fun))
    V = np.linalg.eigh(0.5 * (H + H.T))[1]
    pos = lam > 1e-14 * norm_H
    decrement = 0.5 * float(np.sum((V[:, pos].T @ g) ** 2 / lam[pos]))
    assert small or decrement <= 1e-10 * max(1.0, abs(res.fun)), (problem.name, g, decrement)
    assert res.certificate is not None and res.certificate.classification in (
        "minimum", "degenerate")


@pytest.fixture(scope="module")
def mgh_results():
    return {p.name: run(p) for p in MGH}


@pytest.mark.parametrize("problem", MGH, ids=[p.name for p in MGH])
def test_mgh_no_false_success(problem, mgh_results):
    res = mgh_results[problem.name]
    assert_honest(problem, res)
    if not res.success:
        assert res.status != 0 and res.message


def test_mgh_mostly_solved(mgh_results):
    solved = [p.name for p in MGH if mgh_results[p.name].success
              and reaches(p, mgh_results[p.name].fun)]
    assert len(solved) >= 38, sorted(set(p.name for p in MGH) - set(solved))
    # badly scaled problems of the issue where scipy's methods stop early or claim success
    assert {"brown_badly_scaled", "meyer", "gaussian", "penalty_1_4",
            "penalty_1_10"} <= set(solved)


def test_meyer_certified_at_the_published_value(mgh_results):
    # Meyer (MGH 10; f* = 87.9458, x* ~ (0.0056, 6181, 345), cond(H) ~ 1e16) with default
    # options: the default central steps (h2 ~ 0.04, h3 ~ 2e-3) had truncation errors
    # ~100x the gradient tolerance; the loop's steps from the third derivative of f and the
    # 1-D Newton step on x1 (a few ulps off the valley floor) reach f* and a certificate.
    # lam_min ~ 0.025 is below any Weyl bound at cond 1e16: "degenerate", no negative
    # curvature, reported as such (status 3).
    problem = next(p for p in MGH if p.name == "meyer")
    res = mgh_results["meyer"]
    assert res.success and reaches(problem, res.fun), (res.fun, res.message)
    assert res.certificate.stationary and res.certificate.negative_directions.shape[1] == 0
    assert_honest(problem, res)


@pytest.mark.parametrize("problem", SADDLES, ids=[p.name for p in SADDLES])
def test_saddle_start_ends_at_certified_minimum(problem):
    res = run(problem)
    assert res.success, (problem.name, res.message)
    assert_honest(problem, res)
    saddle_value = problem.f(problem.saddle)
    assert res.fun < saddle_value - 1e-6 * max(1.0, abs(saddle_value))


@pytest.mark.parametrize("name", ["osborne_1", "biggs_exp6"])
def test_exponential_fits_reach_the_published_value(name, mgh_results):
    # Osborne 1: the stencil gradient (axis points ~2 eps^(1/4) away) has the wrong sign
    # in x4 near f = 6.3e-5; steps failed until the radius collapsed before the loop took
    # a central gradient at the second rejection. Biggs EXP6 wandered to f ~ 0.24 before
    # the SR1 negative curvature was checked along its eigenvector instead of refreshed.
    problem = next(p for p in MGH if p.name == name)
    res = mgh_results[name]
    assert reaches(problem, problem.f(res.x)), (name, res.fun, res.message)
    assert_honest(problem, res)
