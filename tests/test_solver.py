"""The trust-region loop: saddle escape, honest termination, budgets, bad values.

Reference values are analytic (minimizers of closed-form functions) or exact counts.
"""
import numpy as np
import pytest

from curvopt.api import minimize
from curvopt.status import Status


def quartic_saddle(x):
    """x^2 - y^2 + y^4/4: strict saddle at 0, minima at (0, +-sqrt(2)), f* = -1."""
    return x[0] ** 2 - x[1] ** 2 + x[1] ** 4 / 4


def test_quadratic_converges_to_certified_minimum():
    A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    b = np.array([1.0, -2.0, 0.5])
    res = minimize(lambda x: 0.5 * x @ A @ x - b @ x, np.zeros(3))
    assert res.success and res.status == Status.MINIMUM
    np.testing.assert_allclose(res.x, np.linalg.solve(A, b), atol=1e-6)
    assert res.certificate.is_minimum


def test_start_exactly_at_saddle_escapes():
    res = minimize(quartic_saddle, np.zeros(2), history=True)
    assert res.success and res.certificate.classification == "minimum"
    assert res.x[0] == pytest.approx(0.0, abs=1e-6)
    assert abs(res.x[1]) == pytest.approx(np.sqrt(2.0), abs=1e-6)
    assert res.fun == pytest.approx(-1.0, abs=1e-10)
    kinds = [row.kind for row in res.history if not row.kind.startswith("certified")]
    assert kinds[1] in ("hard_case", "negative_curvature")   # the first step escapes


def test_symmetry_line_start_does_not_stop_at_saddle():
    # g = (2x, 0) is orthogonal to the negative-curvature direction e_2 on y = 0
    res = minimize(quartic_saddle, np.array([1.0, 0.0]))
    assert res.success
    assert abs(res.x[1]) == pytest.approx(np.sqrt(2.0), abs=1e-6)


def test_start_at_a_maximum_escapes():
    def bowl(x):
        r2 = x @ x
        return -r2 + r2 ** 2 / 4          # max at 0, minima on the ring |x| = sqrt(2)
    res = minimize(bowl, np.zeros(3))
    assert res.success
    assert np.linalg.norm(res.x) == pytest.approx(np.sqrt(2.0), abs=1e-6)


def test_exact_derivatives_are_used():
    calls = {"h": 0}

    def hess(x):
        calls["h"] += 1
        return np.array([[2.0, 0.0], [0.0, -2.0 + 3 * x[1] ** 2]])

    def jac(x):
        return np.array([2 * x[0], -2 * x[1] + x[1] ** 3])
    res = minimize(quartic_saddle, np.zeros(2), jac=jac, hess=hess)
    assert res.success and res.nhev == calls["h"] > 0 and res.njev > 0
    assert abs(res.x[1]) == pytest.approx(np.sqrt(2.0), abs=1e-7)


def test_nan_mid_run_is_a_rejected_step():
    def f(x):
        with np.errstate(invalid="ignore"):
            return x[0] - np.log(x[0])      # NaN for x < 0; min at 1
    res = minimize(f, np.array([5.0]), initial_trust_radius=100.0, history=True)
    assert res.success
    assert res.x[0] == pytest.approx(1.0, abs=1e-6)
    assert any(row.kind.endswith("_rejected") for row in res.history)


def test_maxfev_is_never_exceeded():
    count = {"n": 0}

    def rosen(x):
        count["n"] += 1
        return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    for maxfev in (1, 7, 60, 150):
        count["n"] = 0
        res = minimize(rosen, np.array([-1.2, 1.0]), maxfev=maxfev)
        assert count["n"] == res.nfev <= maxfev
        assert not res.success and res.status == Status.MAXFEV


def test_maxiter_status():
    rosen = lambda x: 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    res = minimize(rosen, np.array([-1.2, 1.0]), maxiter=3)
    assert res.nit == 3 and res.status == Status.MAXITER and not res.success


def test_user_exception_propagates_unchanged():
    class Boom(RuntimeError):
        pass
    count = {"n": 0}

    def f(x):
        count["n"] += 1
        if count["n"] > 5:
            raise Boom("from the user")
        return float(x @ x)
    with pytest.raises(Boom, match="from the user"):
        minimize(f, np.ones(2))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_at_x0_is_value_error(bad):
    with pytest.raises(ValueError):
        minimize(lambda x: bad + x[0], np.zeros(1))


def test_degenerate_minimum_is_reported_not_called_strict():
    # x^4 + y^2: minimizer 0 with a zero Hessian eigenvalue there
    res = minimize(lambda x: x[0] ** 4 + x[1] ** 2, np.array([1.0, 1.0]))
    assert res.success
    assert res.status in (Status.MINIMUM, Status.DEGENERATE_MINIMUM)
    assert abs(res.x[0]) < 0.05 and abs(res.x[1]) < 1e-6
    if res.status == Status.DEGENERATE_MINIMUM:
        assert "degenerate" in res.message.lower() and "0" in res.message


def test_unbounded_below_does_not_claim_success():
    res = minimize(lambda x: -x[0] ** 2 - x[1] ** 2 + 0.1 * x[0], np.zeros(2), maxiter=30)
    assert not res.success
    res = minimize(lambda x: -x[0] ** 2 - x[1] ** 2 + 0.1 * x[0], np.zeros(2))
    assert res.status == Status.NO_FINITE_MINIMIZER and np.all(np.isfinite(res.x))


def test_history_records_classification_and_kinds():
    res = minimize(quartic_saddle, np.array([0.3, 0.0]), history=True)
    assert res.success
    last = res.history[-1]
    assert last.classification == "minimum"
    assert np.all(np.isfinite([row.f for row in res.history]))
    assert [row.nit for row in res.history] == list(range(len(res.history)))
    assert any(row.lam_min < 0 for row in res.history)


def test_history_curvature_class_at_every_iterate():
    # quartic_saddle: H = diag(2, -2 + 3 y^2), indefinite at y = 0, PD at the minima
    res = minimize(quartic_saddle, np.zeros(2), history=True)
    assert res.success
    assert res.history[0].curvature == "indefinite"
    assert res.history[-1].curvature == "positive definite"
    assert all(row.curvature in ("positive definite", "negative definite", "indefinite",
                                 "singular") for row in res.history)
    # the certificate's classification only where a certificate was made
    assert sum(row.classification is not None for row in res.history) < len(res.history)


def test_history_curvature_negative_definite_and_singular():
    bowl = lambda x: -x @ x + (x @ x) ** 2 / 4        # maximum at 0
    assert minimize(bowl, np.zeros(2), history=True).history[0].curvature == \
        "negative definite"
    flat = lambda x: (x[0] - 1.0) ** 2                 # H = diag(2, 0)
    assert minimize(flat, np.zeros(2), history=True).history[0].curvature == "singular"


def test_fd_hessian_every_iteration_option():
    rosen = lambda x: 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    res = minimize(rosen, np.array([-1.2, 1.0]), hessian_update="fd")
    assert res.success
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-5)


def test_njit_and_vectorized_objectives_reach_the_same_point():
    from numba import njit

    @njit(cache=False)
    def rosen_jit(x):
        return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2

    def rosen_vec(X):                       # X has shape (n, m): m points at once
        return 100.0 * (X[1] - X[0] ** 2) ** 2 + (1.0 - X[0]) ** 2
    x0 = np.array([-1.2, 1.0])
    a = minimize(rosen_jit, x0)
    b = minimize(rosen_vec, x0, vectorized=True)
    assert a.success and b.success and a.nfev == b.nfev > 0
    np.testing.assert_allclose(a.x, [1.0, 1.0], atol=1e-5)
    np.testing.assert_allclose(a.x, b.x, rtol=0, atol=1e-12)


def test_minimum_on_the_domain_boundary_is_not_claimed():
    def f(x):                               # sqrt(x0) + (x1 - 1)^2: inf at x0 = 0, NaN below
        return float(np.sqrt(x[0]) + (x[1] - 1.0) ** 2) if x[0] >= 0 else np.nan
    res = minimize(f, np.array([1.0, 0.0]))
    assert not res.success and res.status != Status.MAXITER
    assert 0.0 <= res.x[0] < 1e-6


def test_ctol_reports_small_curvature_as_degenerate():
    A = np.diag([1.0, 1e-3])
    quad = lambda x: 0.5 * x @ A @ x
    assert minimize(quad, np.ones(2)).status == Status.MINIMUM
    res = minimize(quad, np.ones(2), ctol=1e-2)
    assert res.success and res.status == Status.DEGENERATE_MINIMUM


def test_user_hessp_is_used():
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    res = minimize(lambda x: 0.5 * x @ A @ x - x[0], np.ones(2), jac=lambda x: A @ x - [1, 0],
                   hessp=lambda x, v: A @ v)
    assert res.success and res.nhev > 0
    np.testing.assert_allclose(res.x, np.linalg.solve(A, [1.0, 0.0]), atol=1e-8)


@pytest.mark.parametrize("with_jac", [True, False])
def test_rounding_level_reduction_near_optimum_is_not_a_failure(with_jac):
    # f = 1e4 + (x - c)'A(x - c)/2 started where ||g|| = 1e-4: the Newton step predicts
    # g'A^-1 g / 2 ~ 3e-13, below the rounding of f (~2e-12), but reaches the minimizer;
    # the gradient, not f, shows the progress.
    A, c = np.diag([1e4, 2e4]), np.array([0.3, -0.2])
    g0 = np.array([6e-5, -8e-5])
    x0 = c + np.linalg.solve(A, g0)

    def f(x):
        return 1e4 + 0.5 * (x - c) @ A @ (x - c)

    jac = (lambda x: A @ (x - c)) if with_jac else None
    res = minimize(f, x0, jac=jac)
    assert res.status == Status.MINIMUM and res.certificate.is_minimum
    # the certificate's promise: the minimizer lies within newton_step of x
    assert np.abs(res.x - c).max() <= res.certificate.newton_step
    assert 0.5 * np.linalg.norm(g0) ** 2 / 1e4 < 2 * np.finfo(float).eps * 1e4


def _noisy_quadratic():
    A, b = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([1.0, -1.0])

    def f(x):      # deterministic noise of size 1e-7 (a hash of x), like a simulation's
        return 0.5 * x @ A @ x - b @ x + 1e-7 * np.sin(1e8 * (x[0] + 1.618 * x[1]))
    return f, np.linalg.solve(A, b)


def test_noise_estimate_at_start_sizes_the_steps():
    f, x_star = _noisy_quadratic()
    res = minimize(f, np.array([2.0, 2.0]))
    blind = minimize(f, np.array([2.0, 2.0]), noise=False)
    # certified at the precision the noise leaves: tau ~ 4 sigma, sigma ~ 1e-7
    assert res.success and 1e-8 <= res.certificate.resolution <= 1e-5
    assert np.abs(res.x - x_star).max() <= max(res.certificate.newton_step, 1e-6)
    assert res.nfev < blind.nfev or not blind.success   # steps fit to the noise


def test_sr1_negative_curvature_checked_by_two_evaluations():
    from curvopt.objective import Objective
    from curvopt.quasi_newton import confirm_curvature
    eps = np.finfo(float).eps
    A = np.diag([1.0, 4.0, 9.0])
    obj = Objective(lambda x: 0.5 * x @ A @ x, np.ones(3))
    H_sr1 = A.copy()
    H_sr1[2, 2] = -5.0                          # a spurious negative eigenvalue
    H = confirm_curvature(obj, obj.x0, obj.f(obj.x0), H_sr1, eps)
    assert obj.nfev == 1 + 2
    np.testing.assert_allclose(H, A, atol=1e-6)
    saddle = Objective(lambda x: x[0] ** 2 - x[1] ** 2, np.zeros(2))
    H = confirm_curvature(saddle, saddle.x0, 0.0, np.diag([2.0, -7.0]), eps)
    np.testing.assert_allclose(H, np.diag([2.0, -2.0]), atol=1e-6)   # real one kept


@pytest.mark.parametrize("scaling", ["hessian", "x"])
def test_trust_scaling_options_reach_certified_minimum(scaling):
    # badly scaled quadratic: minimizer at (1e-3, 1e3)
    f = lambda x: (1e3 * x[0] - 1.0) ** 2 + (1e-3 * x[1] - 1.0) ** 2
    res = minimize(f, np.array([0.0, 0.0]), trust_scaling=scaling)
    assert res.success
    np.testing.assert_allclose(res.x, [1e-3, 1e3], rtol=1e-5)


def test_hessian_steps_capped_on_a_stiff_coordinate():
    # H_00 = 2e14 (Meyer's x1): the default step eps^(1/4) ~ 1.2e-4 would lift f by
    # 2 H_00 h^2 ~ 6e6 at the stencil's widest points; the cap keeps 2 H_ii h_i^2 <=
    # max(1, |f|) there and leaves the well-scaled coordinate at the default.
    from curvopt.fd.steps import capped_hessian_steps
    x = np.array([5.6e-3, 2.0])
    eps = np.finfo(float).eps
    h = capped_hessian_steps(x, 88.0, [2e14, 2.0], eps)
    h0 = eps ** 0.25 * np.maximum(1.0, np.abs(x))
    assert 2 * 2e14 * h[0] ** 2 <= 88.0 * (1 + 1e-12) and h[0] < h0[0]
    assert h[1] == h0[1]
    assert capped_hessian_steps(x, 88.0, [2.0, 2.0], eps) is None       # nothing to cap


def _stale_runs(monkeypatch, stale):
    """Longest run of accepted SR1 points without a fresh Hessian, with every SR1 update
    skipped (sr1 returns H unchanged) and SR1_STALE = ``stale``; and the result."""
    from curvopt import trust_region as tr
    monkeypatch.setattr(tr, "sr1", lambda H, s, y: H)
    monkeypatch.setattr(tr, "SR1_STALE", stale)
    runs, longest = [0], [0]
    accept = tr.Run.accept

    def counted(self, point, p, f_new, rho):
        new = accept(self, point, p, f_new, rho)
        runs[0] = 0 if new.fresh else runs[0] + 1
        longest[0] = max(longest[0], runs[0])
        return new
    monkeypatch.setattr(tr.Run, "accept", counted)
    # the curvature e^x falls 150x on the way: a stale H from x0 keeps the steps short
    res = minimize(lambda x: np.sum(np.exp(x)) + 0.5 * x @ x, np.array([5.0, 4.0]))
    return longest[0], res


def test_skipped_sr1_updates_rebuild_the_hessian(monkeypatch):
    """SR1_STALE consecutive skipped SR1 updates (N&W eq. 6.26) rebuild H: a stale model
    crept for thousands of iterations on NIST Hahn1 and MGH10 with numpy 1.24."""
    from curvopt.trust_region import SR1_STALE
    longest, res = _stale_runs(monkeypatch, SR1_STALE)
    assert longest <= SR1_STALE - 1 and res.success
    assert np.allclose(res.x, -0.5671432904097838, atol=1e-6)    # e^x + x = 0 (omega)
    longest_without, _ = _stale_runs(monkeypatch, 10 ** 9)
    assert longest_without > SR1_STALE                          # the rule is what bounds it
