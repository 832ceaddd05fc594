"""Tests of curvopt.check: the finite-difference path end to end.

Truth comes from construction (quadratics with H = Q diag(lam) Q' and known minimizer
x*), closed forms (the logistic optimum w* = X^-1 logit(t) for a square X), scipy's
minimize in the same run, and statsmodels' Logit ``bse``. Seeds are fixed; hypothesis
runs derandomized.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from scipy.optimize import minimize, rosen, rosen_der
from scipy.special import logit

from curvopt.check import check


def rotated(lam, seed):
    lam = np.asarray(lam, dtype=float)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((lam.size, lam.size)))
    H = (Q * lam) @ Q.T
    return 0.5 * (H + H.T)


def quadratic(H, xs, c=0.0):
    def f(x):
        d = x - xs
        return c + 0.5 * d @ (H @ d)
    return f


@pytest.mark.parametrize("lam_min, expected", [
    (1e-3, "minimum"), (-1e-3, "saddle"), (0.0, "degenerate")])
def test_known_spectra_through_finite_differences(lam_min, expected):
    H = rotated([lam_min, 0.3, 1.0, 2.0, 5.0], seed=4)
    xs = np.array([0.5, -1.0, 2.0, 0.0, 3.0])
    c = check(quadratic(H, xs, c=1.5), xs)
    assert c.classification == expected, str(c)
    assert c.nfev >= 2 * 5 ** 2 + 1
    assert abs(c.lam_min - lam_min) <= c.lam_err
    if expected == "saddle":
        v = rotated_eigvec = np.linalg.eigh(H)[1][:, 0]
        assert abs(abs(c.negative_directions[:, 0] @ rotated_eigvec) - 1) < 1e-6 and v.size == 5


def _claims_hold(c, lam_true, true_class):
    """Every decided class must be true; 'degenerate' is true when a true eigenvalue is
    within the resolution 2 * lam_err of 0 and none is below -2 * lam_err (Weyl)."""
    if c.classification == "inconclusive":
        return True
    if c.classification == "degenerate":
        b = 2 * c.lam_err
        return lam_true[0] >= -b and np.min(np.abs(lam_true)) <= b
    return c.classification == true_class


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 30), kind=st.sampled_from(["minimum", "saddle", "maximum", "degenerate"]),
       log_scale=st.floats(-3, 3), log_shift=st.floats(-2, 3), log_gap=st.floats(-7, 0),
       offset=st.floats(-1e4, 1e4), seed=st.integers(0, 2 ** 31 - 1))
def test_never_a_wrong_decided_class(n, kind, log_scale, log_shift, log_gap, offset, seed):
    """Random spectra: scale 1e-3..1e3, smallest |lam| down to 1e-7 of the largest,
    minimizer |x*| up to ~1e3, f(x*) up to 1e4 times the scale (rounding-dominated)."""
    rng = np.random.default_rng(seed)
    mags = 10.0 ** rng.uniform(log_gap, 0, n)          # |lam| / scale in [gap, 1]
    mags[0] = 10.0 ** log_gap
    signs = np.ones(n)
    if kind == "maximum":
        signs = -signs
    elif kind == "saddle":
        if n == 1:
            kind, signs = "maximum", -signs
        else:
            signs[: max(1, n // 3)] = -1.0
    if kind == "degenerate":
        mags[: max(1, n // 4)] = 0.0
    lam = 10.0 ** log_scale * signs * mags
    H = rotated(lam, seed)
    xs = 10.0 ** log_shift * rng.standard_normal(n)
    c = check(quadratic(H, xs, c=offset * 10.0 ** log_scale), xs)
    assert c.classification != "not_stationary", str(c)
    assert _claims_hold(c, np.sort(lam), kind), (kind, np.sort(lam)[:3], str(c))
    if kind != "degenerate" and c.classification == kind:
        assert np.all(np.abs(c.lam - np.sort(lam)) <= c.lam_err)


def test_strict_saddle_direction_and_monkey_saddle():
    c = check(lambda z: z[0] ** 2 - z[1] ** 2 + z[1] ** 4 / 4, [0.0, 0.0])
    assert c.classification == "saddle"
    assert np.allclose(np.abs(c.negative_directions[:, 0]), [0.0, 1.0], atol=1e-8)
    c = check(lambda z: z[0] ** 3 - 3 * z[0] * z[1] ** 2, [0.0, 0.0])
    assert c.classification == "degenerate" and not c.is_minimum
    assert c.flat_parameters == (0, 1)


# --- the float32 logistic-regression case (BCE with soft targets, 100 x 100) ------------

def _bce_data(dtype, seed=0):
    rng = np.random.default_rng(seed)
    X, t, w = rng.uniform(size=(100, 100)), rng.uniform(size=100), rng.uniform(size=100) - 0.25
    return X.astype(dtype), t.astype(dtype), w.astype(dtype)


def bce(w, X, t):
    """Sum of binary cross-entropies, logs clamped at -100 as torch's BCELoss does."""
    one = X.dtype.type(1)
    p = one / (one + np.exp(-(X @ w.astype(X.dtype))))
    lp = np.maximum(np.log(p), X.dtype.type(-100))
    lq = np.maximum(np.log(one - p), X.dtype.type(-100))
    return -np.sum(t * lp + (one - t) * lq)


def bce_grad(w, X, t):
    return X.T @ (1.0 / (1.0 + np.exp(-(X @ w))) - t)


def test_float32_logistic_is_not_a_saddle_and_float64_decides():
    X32, t32, w32 = _bce_data(np.float32)
    c32 = check(bce, w32, args=(X32, t32))
    assert c32.classification != "saddle"
    assert c32.lam_min < 0 and c32.lam_min >= -c32.lam_err    # FD noise, not curvature
    X, t, w = _bce_data(np.float64)
    c64 = check(bce, w, args=(X, t))
    assert c64.classification == "not_stationary" and c64.grad_norm - c64.grad_err > 0
    c32_opt = check(bce, np.linalg.solve(X, logit(t)).astype(np.float32), args=(X32, t32))
    assert c32_opt.classification in ("inconclusive", "degenerate", "minimum")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_saturated_float32_bce_certifies_neither_curvature_nor_a_wrong_gradient():
    """Seed 1 (the examples' case): sigmoid rounds to 1 in float32 and the clamped log
    makes f jump at the step scale; the true (float64) Hessian is PSD with lam_min ~ 3e-10
    and ||g|| = 236.  Before the smoothness check this certified lam_min = -1.6e5 < 0 and
    ||g|| = 952 +- 407."""
    X32, t32, w32 = _bce_data(np.float32, seed=1)
    c = check(bce, w32, args=(X32, t32))
    X, t, w = _bce_data(np.float64, seed=1)
    s = 1.0 / (1.0 + np.exp(-(X @ w)))
    g_true = X.T @ (s - t)
    lam_true = np.linalg.eigvalsh((X.T * (s * (1 - s))) @ X)
    assert lam_true[0] > -1e-6 and c.classification not in ("saddle", "maximum")
    assert np.all(c.lam + c.lam_err >= lam_true)          # no eigenvalue certified below truth
    assert abs(c.grad_norm - np.linalg.norm(g_true)) <= c.grad_err


@pytest.mark.parametrize("f, x, g_true, H_true", [
    (lambda z: abs(z[0] - 1e-4) + z[1] ** 2, [0.0, 0.5], [-1.0, 1.0], [0.0, 2.0]),
    (lambda z: z @ z + 1e-3 * (z[0] > 1e-4), [0.0, 0.0], [0.0, 0.0], [2.0, 2.0])])
def test_kink_or_jump_near_x_is_flagged_and_curvature_not_certified(f, x, g_true, H_true):
    """A kink / jump 1e-4 away (inside the stencil at h ~ 1.2e-4): f is flagged not smooth,
    the bounds cover the derivatives of the smooth piece containing x, and no curvature
    is certified."""
    from curvopt.model import local_model
    from curvopt.objective import Objective
    m = local_model(Objective(f, x), x)
    assert not m.smooth
    assert np.all(m.g_err >= np.abs(m.g - g_true))
    assert np.all(m.H_err >= np.abs(m.H - np.diag(H_true)))
    c = check(f, x)
    assert c.classification in ("inconclusive", "not_stationary", "degenerate")
    assert not c.is_minimum and c.inconclusive.startswith("f is not smooth")
    assert np.all(np.abs(c.lam) <= c.lam_err)                  # no curvature certified
    if c.classification == "not_stationary":                   # only where it is true
        assert np.linalg.norm(g_true) > 0


def hess_chain(w, X, t):
    """BCE Hessian by the chain rule through the probabilities (as reverse-mode autodiff
    forms it), in the dtype of X: exact s(1-s) in real arithmetic, two O(1) terms that
    cancel only up to rounding in float32."""
    one = X.dtype.type(1)
    s = one / (one + np.exp(-(X @ w.astype(X.dtype))))
    ds = s * (one - s)
    q = np.maximum(ds, X.dtype.type(1e-12))
    d2 = (ds - (s - t) * (one - 2 * s)) / (q * q) * ds * ds + (s - t) / q * ds * (one - 2 * s)
    return (X.T * d2) @ X


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_float32_user_hessian_gets_a_measured_bound_and_hess_err_is_used():
    X32, t32, w32 = _bce_data(np.float32, seed=1)
    X, t, _ = _bce_data(np.float64, seed=1)
    s = 1.0 / (1.0 + np.exp(-(X @ w32.astype(np.float64))))
    lam_true = np.linalg.eigvalsh((X.T * (s * (1 - s))) @ X)
    H32 = hess_chain(w32, X32, t32).astype(np.float64)
    gap = np.abs(np.linalg.eigvalsh(H32) - lam_true).max()
    assert gap > 100 * 10 * 1.2e-7 * np.abs(H32).max()      # the old n * 10 eps max|H| misses
    follows = lambda w, X, t: hess_chain(w, X.astype(w.dtype), t.astype(w.dtype))
    for hess in (follows, hess_chain):                      # float64 probe / ECnoise probe
        c = check(bce, w32, args=(X32, t32), hess=hess)
        assert c.lam_err >= gap and c.classification != "saddle"
    c = check(bce, w32, args=(X32, t32), hess=hess_chain, hess_err=1e-3, jac=bce_grad,
              jac_err=np.full(100, 0.5))
    assert c.lam_err >= 1e-3 * 100 and c.grad_err == pytest.approx(5.0)
    with pytest.raises(ValueError, match="hess_err"):
        check(bce, w32, args=(X32, t32), hess=hess_chain, hess_err=-1.0)


def test_float64_logistic_optimum_is_a_minimum():
    X, t, w = _bce_data(np.float64)
    res = minimize(bce, w, args=(X, t), jac=bce_grad, method="BFGS", options={"gtol": 1e-8})
    w_star = np.linalg.solve(X, logit(t))              # p = t exactly: closed-form optimum
    assert np.max(np.abs(res.x - w_star)) < 1e-4
    c = check(bce, res.x, args=(X, t), jac=bce_grad)
    assert c.classification == "minimum", str(c)
    p = 1.0 / (1.0 + np.exp(-(X @ res.x)))
    lam_true = np.linalg.eigvalsh(X.T @ (X * (p * (1 - p))[:, None]))
    assert np.all(np.abs(c.lam - lam_true) <= c.lam_err)
    c_fd = check(bce, res.x, args=(X, t))               # function values only
    assert c_fd.classification in ("minimum", "degenerate", "inconclusive")
    assert c_fd.lam_min + c_fd.lam_err >= lam_true[0] >= c_fd.lam_min - c_fd.lam_err


def test_standard_errors_match_statsmodels_logit():
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.spector.load_pandas()
    X = sm.add_constant(data.exog.to_numpy(dtype=float))
    y = data.endog.to_numpy(dtype=float)
    res = sm.Logit(y, X).fit(disp=0)

    def nll(b):
        z = X @ b
        return float(np.sum(np.logaddexp(0.0, z) - y * z))

    c = check(nll, np.asarray(res.params), names=["const"] + list(data.exog.columns))
    assert c.classification == "minimum", str(c)
    assert np.allclose(c.standard_errors, np.asarray(res.bse), rtol=1e-4, atol=0)
    assert "standard errors" in str(c) and "GPA=" in str(c)


def test_check_optimize_result():
    res = minimize(rosen, [-1.2, 1.0, 0.8], jac=rosen_der, method="BFGS", options={"gtol": 1e-10})
    c = check(res, rosen)
    assert c.classification == "minimum" and np.array_equal(c.x, res.x)
    c = check(res, rosen, jac=rosen_der)
    assert c.is_minimum and c.grad_err < 1e-10
    with pytest.raises(TypeError, match="OptimizeResult"):
        check(res)


def test_exact_hessian_path():
    c = check(lambda z: z[0] ** 2 + 1e-9 * z[1] ** 2, [0.0, 0.0],
              jac=lambda z: np.array([2 * z[0], 2e-9 * z[1]]),
              hess=lambda z: np.diag([2.0, 2e-9]))
    assert c.exact_hessian and c.classification == "minimum"
    assert c.lam_err < 1e-12


@pytest.mark.parametrize("kwargs, msg", [
    (dict(fun=lambda x: x[0] ** 2 + x[1] ** 2, x=[1.0]), "length 1"),
    (dict(fun=lambda x: float(np.log(x[0])) if x[0] > 0 else np.nan, x=[-1.0]),
     "not finite"),
    (dict(fun=lambda x: x @ x, x=[1.0, np.nan]), "the point x must be finite; non-finite entries"),
    (dict(fun=lambda x: x @ x, x=[[1.0, 2.0]]), "1-D"),
    (dict(fun=lambda x: x @ x, x=[]), "empty"),
    (dict(fun=lambda x: x @ x, x=[1.0, 2.0], names=["a"]), "names"),
    (dict(fun=lambda x: x @ x, x=[1.0, 2.0], jac=lambda x: np.ones(3)), "jac returned shape"),
    (dict(fun=lambda x: x @ x, x=[1.0, 2.0], jac=lambda x: np.array([np.nan, 1.0])),
     "jac returned non-finite"),
    (dict(fun=lambda x: x @ x, x=[1.0, 2.0], hess=lambda x: np.eye(3)), "hess returned shape"),
    (dict(fun=lambda x: x @ x, x=[1.0, 2.0], hess=lambda x: np.full((2, 2), np.inf)),
     "hess returned non-finite"),
])
def test_bad_input_names_the_problem(kwargs, msg):
    fun, x = kwargs.pop("fun"), kwargs.pop("x")
    with pytest.raises(ValueError, match=msg):
        check(fun, x, **kwargs)


def test_bad_options_raise_before_any_evaluation():
    calls = []

    def f(x):
        calls.append(1)
        return float(x @ x)

    for kw in (dict(gtol=-1.0), dict(loading=0.0), dict(names=["a"])):
        with pytest.raises(ValueError):
            check(f, [1.0, 2.0], **kw)
    assert calls == []


def test_not_callable():
    with pytest.raises(TypeError, match="callable"):
        check(3.0, [1.0])


def test_numba_objective_takes_the_compiled_path():
    from numba import njit

    @njit
    def f(x):
        return x[0] ** 2 - x[1] ** 2 + x[1] ** 4 / 4 + 0.5 * x[2] ** 2

    c = check(f, np.zeros(3))
    assert c.classification == "saddle"
    assert np.allclose(np.abs(c.negative_directions[:, 0]), [0.0, 1.0, 0.0], atol=1e-8)
