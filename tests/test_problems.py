"""Tests of the test-problem sets (curvopt.problems): data, derivatives, saddles.

Reference values come from peers in the same run: numdifftools' Richardson-
extrapolated finite differences for the gradient (of f) and the Hessian (the
Jacobian of the analytic gradient), and scipy's trust-exact for the minimum
values.  Finite-difference tolerances: numdifftools' error estimate is a
truncation-error heuristic, so it gets a safety factor 10, plus the rounding
error of a difference quotient, eps * |value| / step (Higham 2002, sec. 1.14),
again with factor 10, using the step numdifftools reports it chose.
"""
import numpy as np
import numdifftools as nd
import pytest
from scipy.optimize import minimize

from curvopt.problems import Problem, get_problem
from curvopt.problems.mgh import get_mgh_problem, mgh_problems
from curvopt.problems.saddles import get_saddle_problem, saddle_problems

EPS = np.finfo(float).eps
MGH = mgh_problems()
SADDLES = saddle_problems()
ALL = MGH + SADDLES
SEED = 20261122  # seed of the random points near x0 (one stream per problem index)


def nearby(p, k):
    """A seeded random point near the start: x0 + (0.01 + 0.05 |x0|) N(0, 1)."""
    rng = np.random.default_rng([SEED, k])
    x = p.start()
    return x + (0.01 + 0.05 * np.abs(x)) * rng.standard_normal(p.n)


def points(p):
    return [p.start(), nearby(p, ALL.index(p))]


def nd_full_output(res):
    """(estimate, info) of numdifftools' ``full_output=True``: a pair in 0.9.x, one
    named record (the estimate and the info fields) in 0.11."""
    return (res.estimate, res) if hasattr(res, "estimate") else (res[0], res[1])


def fd_tolerance(res, scale):
    """10 x numdifftools' error estimate + 10 x rounding eps * scale / step."""
    estimate, info = nd_full_output(res)
    err = np.reshape(info.error_estimate, np.shape(estimate))
    step = np.reshape(info.final_step, np.shape(estimate))
    return 10 * err + 10 * EPS * scale / step


def close_to_documented(value, documented):
    """|value - f| within the paper's 6 significant digits (rel 1e-5) or 1e-12 absolute."""
    return any(abs(value - d) <= 1e-5 * abs(d) + 1e-12 for d in documented)


def test_set_sizes_and_names_are_unique():
    assert len(MGH) >= 22 and len(SADDLES) >= 10
    names = [p.name for p in ALL]
    assert len(set(names)) == len(names)
    assert sum("saddle_start" in p.tags for p in SADDLES) >= 8
    assert sum("symmetry_line" in p.tags for p in SADDLES) >= 2
    for name in ("brown_badly_scaled", "meyer", "gaussian", "penalty_1_4"):
        assert "badly_scaled" in get_mgh_problem(name).tags


@pytest.mark.parametrize("p", ALL, ids=lambda p: p.name)
def test_record_is_consistent(p):
    assert isinstance(p, Problem)
    assert p.x0.shape == (p.n,) and p.x0.dtype == np.float64 and not p.x0.flags.writeable
    assert p.reference and isinstance(p.tags, tuple)
    x = p.start()
    assert isinstance(p.f(x), float) and np.isfinite(p.f(x))
    assert p.grad(x).shape == (p.n,) and p.hess(x).shape == (p.n, p.n)
    with pytest.raises(AttributeError):
        p.name = "other"
    assert get_problem(p.name).name == p.name


def test_unknown_names_raise_value_error():
    for getter in (get_problem, get_mgh_problem, get_saddle_problem):
        with pytest.raises(ValueError, match="unknown"):
            getter("no_such_problem")


# numdifftools' widest trial steps overflow exp() in Osborne 1; it discards those estimates
OVERFLOW_OK = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")


@OVERFLOW_OK
@pytest.mark.parametrize("p", ALL, ids=lambda p: p.name)
def test_gradient_matches_numdifftools(p):
    for x in points(p):
        res = nd.Gradient(p.f, full_output=True)(x)
        tol = fd_tolerance(res, max(abs(p.f(x)), EPS))
        assert np.all(np.abs(p.grad(x) - nd_full_output(res)[0]) <= tol), p.name


@OVERFLOW_OK
@pytest.mark.parametrize("p", ALL, ids=lambda p: p.name)
def test_hessian_matches_numdifftools_jacobian_of_gradient(p):
    for x in points(p):
        res = nd.Jacobian(p.grad, full_output=True)(x)
        H = p.hess(x)
        tol = fd_tolerance(res, np.max(np.abs(p.grad(x))) + EPS)
        assert np.array_equal(H, H.T)
        assert np.all(np.abs(H - np.reshape(nd_full_output(res)[0], H.shape)) <= tol), p.name


@pytest.mark.parametrize("p", [p for p in ALL if p.x_star is not None], ids=lambda p: p.name)
def test_f_at_x_star_is_f_star(p):
    assert close_to_documented(p.f(p.x_star), [p.f_star])
    g = p.grad(p.x_star)
    scale = 1 + np.max(np.abs(p.hess(p.x_star))) * (1 + np.max(np.abs(p.x_star)))
    assert np.max(np.abs(g)) <= 1e-6 * scale  # x_star is stationary (digits as published)


@pytest.mark.parametrize("p", MGH, ids=lambda p: p.name)
def test_trust_exact_from_x0_reaches_documented_value(p):
    """scipy trust-exact with the exact derivatives cross-checks the data and f*.

    Freudenstein-Roth and the trigonometric function end at their documented
    local minima (48.9842 and 2.79506e-5), which `f_local` lists. Where the Hessian is
    singular everywhere (the rank-1 linear functions), trust-krylov instead: trust-exact's
    subproblem did not halt there with scipy 1.12, the floor (scipy issue 12513).
    """
    singular = np.linalg.matrix_rank(p.hess(p.start())) < p.n
    with np.errstate(all="ignore"):
        res = minimize(p.f, p.start(), jac=p.grad, hess=p.hess,
                       method="trust-krylov" if singular else "trust-exact",
                       options={"maxiter": 3000, "gtol": 1e-10})
    assert close_to_documented(res.fun, (p.f_star,) + p.f_local), (p.name, res.fun)


@pytest.mark.parametrize("p", SADDLES, ids=lambda p: p.name)
def test_saddle_is_strict(p):
    s = p.saddle
    g, lam = p.grad(s), np.linalg.eigvalsh(p.hess(s))
    assert np.max(np.abs(g)) <= 1e3 * EPS * (1 + np.max(np.abs(lam)) * (1 + np.max(np.abs(s))))
    assert lam[0] < -1e-3 * max(1.0, abs(lam[-1]))
    if "maximum_start" in p.tags:
        assert lam[-1] < 0
    else:
        assert lam[-1] > 0
    if "saddle_start" in p.tags or "maximum_start" in p.tags:
        assert np.array_equal(p.x0, s)


@pytest.mark.parametrize("p", [p for p in SADDLES if "symmetry_line" in p.tags],
                         ids=lambda p: p.name)
def test_symmetry_line_start_is_orthogonal_to_negative_curvature(p):
    g = p.grad(p.x0)
    lam, V = np.linalg.eigh(p.hess(p.x0))
    bottom = V[:, lam <= lam[0] + 1e-8 * abs(lam[0])]
    assert lam[0] < 0 and np.linalg.norm(g) > 0
    assert np.all(np.abs(g @ bottom) <= 10 * EPS * np.linalg.norm(g))
    # the start differs from the saddle only within the positive eigenspace of H(saddle)
    lam_s, V_s = np.linalg.eigh(p.hess(p.saddle))
    d = p.x0 - p.saddle
    assert np.all(np.abs(V_s[:, lam_s < 0].T @ d) <= 10 * EPS * np.linalg.norm(d))


@pytest.mark.parametrize("method", ["BFGS", "CG"])
@pytest.mark.parametrize("p", [p for p in SADDLES if "symmetry_line" in p.tags],
                         ids=lambda p: p.name)
def test_gradient_methods_from_symmetry_line_converge_to_the_saddle(p, method):
    """The documented `saddle` is where a method that follows g alone ends."""
    res = minimize(p.f, p.start(), jac=p.grad, method=method, options={"gtol": 1e-10})
    assert np.max(np.abs(res.x - p.saddle)) <= 1e-6


def test_inputs_are_converted_to_float64():
    p = get_problem("rosenbrock")
    assert p.f([-1, 1]) == p.f(np.array([-1.0, 1.0], dtype=np.float32)) == 4.0
    assert p.grad([1, 1]).dtype == np.float64 and p.hess((1, 1)).dtype == np.float64


@pytest.mark.parametrize("p", SADDLES, ids=lambda p: p.name)
def test_saddle_leads_to_documented_minimum(p):
    """trust-exact from a tiny seeded kick off the saddle reaches f* or a listed local minimum."""
    x = p.saddle + 1e-3 * np.random.default_rng([SEED, 1, ALL.index(p)]).standard_normal(p.n)
    res = minimize(p.f, x, jac=p.grad, hess=p.hess, method="trust-exact",
                   options={"maxiter": 1000, "gtol": 1e-10})
    assert close_to_documented(res.fun, (p.f_star,) + p.f_local), (p.name, res.fun)
    lam = np.linalg.eigvalsh(p.hess(res.x))
    assert lam[0] > -1e-6 * max(1.0, lam[-1])  # PSD to rounding (flat valleys of symmetry)
