"""Trust-region subproblem: guarantees on bare matrices with known spectra Q diag(lam) Q'.

Checks the optimality conditions of N&W (2006) Theorem 4.1 rather than stored numbers:
||p|| <= delta, (H + mu I) p = -g, mu >= 0, mu (delta - ||p||) = 0, H + mu I PSD, and a
model decrease at least the Cauchy decrease and at least scipy's trust-exact subproblem
solution (a peer computed in the same run). Seeds are fixed per test.
"""
import numpy as np
import pytest
from scipy.optimize._trustregion_exact import IterativeSubproblem
from scipy.stats import ortho_group

from curvopt.subproblem import (cauchy_step, damped_trust_region_step,
                                negative_curvature_step, solve_trust_region)


def model(g, H, p):
    return float(g @ p + 0.5 * p @ H @ p)


def random_case(rng):
    """A random subproblem: spectrum kind, optional hard case, radius over 6 decades."""
    n = int(rng.integers(1, 9))
    Q = ortho_group.rvs(n, random_state=rng) if n > 1 else np.ones((1, 1))
    kind = rng.choice(["pd", "indef", "repeated", "singular", "neg"])
    lam = np.sort(rng.normal(size=n) * 10.0 ** rng.uniform(-3, 3, size=n))
    if kind == "pd":
        lam = np.abs(lam) + 1e-3
    elif kind == "repeated" and n > 1:
        lam[1] = lam[0] = -abs(lam[0])
    elif kind == "singular":
        lam[0] = 0.0
    elif kind == "neg":
        lam = -np.abs(lam)
    lam = np.sort(lam)
    gt = rng.normal(size=n) * 10.0 ** rng.uniform(-3, 3)
    hard = rng.random() < 0.3
    if hard:                                   # g orthogonal to the bottom eigenspace
        gt[lam <= lam[0]] = 0.0
    H = Q @ np.diag(lam) @ Q.T
    H = 0.5 * (H + H.T)
    g = Q @ gt
    delta = 10.0 ** rng.uniform(-3, 3)
    return g, H, delta


def check_guarantees(g, H, delta, step, rtol=1e-9):
    lam, V = np.linalg.eigh(H)
    p, mu = step.p, step.mu
    normH = max(np.abs(lam).max(), 1e-300)
    norm_p = np.linalg.norm(p)
    scale = normH * max(norm_p, delta) + np.linalg.norm(g)
    assert norm_p <= delta * (1 + 1e-12)
    assert mu >= 0
    assert np.linalg.norm((H + mu * np.eye(len(g))) @ p + g) <= rtol * (scale + mu * norm_p)
    assert mu * (delta - norm_p) <= rtol * (mu * delta + 1e-300)
    assert lam[0] + mu >= -rtol * normH
    assert step.predicted_reduction == pytest.approx(-model(g, H, p), rel=1e-9, abs=1e-12 * scale * delta)
    return scale


def test_thousands_of_random_subproblems():
    rng = np.random.default_rng(20261122)
    for _ in range(3000):
        g, H, delta = random_case(rng)
        lam, V = np.linalg.eigh(H)
        step = solve_trust_region(g, lam, V, delta)
        scale = check_guarantees(g, H, delta, step)
        m_opt = model(g, H, step.p)
        tol = 1e-9 * scale * delta
        assert m_opt <= model(g, H, cauchy_step(g, H, delta).p) + tol
        # the global solution is at least as good as any feasible point
        Z = rng.normal(size=(20, len(g)))
        Z *= (delta * rng.random((20, 1)) ** (1 / len(g))) / np.linalg.norm(Z, axis=1, keepdims=True)
        assert all(m_opt <= model(g, H, z) + tol for z in Z)


def test_at_least_as_good_as_scipy_trust_exact_subproblem():
    rng = np.random.default_rng(7)
    for _ in range(300):
        g, H, delta = random_case(rng)
        if np.linalg.norm(g) == 0:
            continue
        lam, V = np.linalg.eigh(H)
        step = solve_trust_region(g, lam, V, delta)
        sub = IterativeSubproblem(np.zeros_like(g), lambda x: 0.0, lambda x: g, lambda x: H)
        p_scipy, _ = sub.solve(delta)
        # scipy stops its iteration at a relative tolerance and may land just outside the
        # ball; compare against its step projected onto the ball (a feasible point)
        p_scipy = p_scipy * min(1.0, delta / np.linalg.norm(p_scipy))
        scale = np.abs(lam).max() * delta + np.linalg.norm(g)
        assert model(g, H, step.p) <= model(g, H, p_scipy) + 1e-9 * scale * delta


def test_hard_case_exact_saddle_returns_both_signs():
    # H = diag(2, -1), g = 0: the solution is +-delta e_2 (N&W sec. 4.3)
    H = np.diag([2.0, -1.0])
    lam, V = np.linalg.eigh(H)
    step = solve_trust_region(np.zeros(2), lam, V, 0.5)
    assert step.hard_case and step.kind == "hard_case"
    assert step.mu == pytest.approx(1.0)
    assert abs(step.p[1]) == pytest.approx(0.5) and step.p[0] == 0
    np.testing.assert_allclose(step.alt, -step.p)
    assert step.predicted_reduction == pytest.approx(0.125)


def test_hard_case_with_gradient_orthogonal_to_bottom_eigenvector():
    rng = np.random.default_rng(3)
    Q = ortho_group.rvs(5, random_state=rng)
    lam = np.array([-2.0, -2.0 + 0, 1.0, 3.0, 10.0])
    H = Q @ np.diag(lam) @ Q.T
    H = 0.5 * (H + H.T)
    g = Q @ np.array([0.0, 0.0, 0.1, -0.3, 0.5])
    lam_h, V = np.linalg.eigh(H)
    step = solve_trust_region(g, lam_h, V, 1.0)
    assert step.hard_case
    check_guarantees(g, H, 1.0, step)
    assert np.linalg.norm(step.p) == pytest.approx(1.0)
    check_guarantees(g, H, 1.0, step.__class__(step.alt, "hard_case", True, step.mu,
                                                -model(g, H, step.alt)))


def test_nearly_hard_case_small_component_along_bottom_vector():
    H = np.diag([-1.0, 2.0])
    lam, V = np.linalg.eigh(H)
    for eps_g in (1e-3, 1e-8, 1e-14):
        g = np.array([eps_g, 0.1])
        step = solve_trust_region(g, lam, V, 1.0)
        check_guarantees(g, H, 1.0, step, rtol=1e-8)
        assert step.p[0] < 0            # descent along the bottom vector: g'v tau < 0


def test_interior_newton_step_when_pd_and_inside():
    H = np.array([[4.0, 1.0], [1.0, 3.0]])
    g = np.array([1.0, 2.0])
    lam, V = np.linalg.eigh(H)
    step = solve_trust_region(g, lam, V, 10.0)
    assert step.kind == "newton" and step.mu == 0.0
    np.testing.assert_allclose(step.p, -np.linalg.solve(H, g), rtol=1e-12)


def test_negative_curvature_step_sign_is_descent():
    H = np.diag([1.0, -3.0])
    g = np.array([0.2, 0.5])
    step = negative_curvature_step(g, H, np.array([0.0, 1.0]), 0.1)
    assert g @ step.p <= 0
    assert np.linalg.norm(step.p) == pytest.approx(0.1)
    assert step.mu == pytest.approx(3.0)
    np.testing.assert_allclose(step.alt, -step.p)
    assert step.predicted_reduction == pytest.approx(-model(g, H, step.p))


def test_damped_step_matches_eigen_step():
    rng = np.random.default_rng(11)
    for _ in range(200):
        g, H, delta = random_case(rng)
        lam, V = np.linalg.eigh(H)
        eig = solve_trust_region(g, lam, V, delta)
        damped = damped_trust_region_step(g, H, delta)
        assert np.linalg.norm(damped.p) <= delta * (1 + 1e-6)
        if not eig.hard_case and damped.kind == "damped":
            scale = np.abs(lam).max() * delta + np.linalg.norm(g)
            # the damped step is feasible, so it cannot beat the global solution ...
            assert model(g, H, eig.p) <= model(g, H, damped.p) + 1e-9 * scale * delta
            # ... and it always does at least as well as the Cauchy point
            assert model(g, H, damped.p) <= model(g, H, cauchy_step(g, H, delta).p) + 1e-9 * scale * delta


def test_damped_step_with_nonfinite_hessian_is_steepest_descent():
    g = np.array([3.0, 4.0])
    step = damped_trust_region_step(g, np.array([[np.nan, 0], [0, 1.0]]), 0.5)
    np.testing.assert_allclose(step.p, -0.5 * g / 5.0)
