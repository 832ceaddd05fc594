"""Matrix-free linear algebra (curvopt.lanczos, curvopt.kw_bound, curvopt.krylov).

Every operator is a bare matrix Q diag(lam) Q' with a known, seeded spectrum (positive
definite, indefinite, singular, clustered, negative definite, the hard case) or a sparse
tridiagonal operator with analytic eigenvalues, seen only through ``v -> H v`` with a
product counter. Checks are mathematical guarantees (orthonormality, the residual bound,
Rayleigh-quotient bounds, the optimality conditions of N&W Thm. 4.1 against the dense
exact solver, Cauchy decrease) with tolerances derived from the stopping rules, never
stored numbers; the probabilistic bound is checked by frequencies over seeded starts.
"""
import numpy as np
import pytest
import scipy.sparse
from scipy.stats import ortho_group

from curvopt.krylov import gltr, steihaug_cg
from curvopt.kw_bound import (KW_CONSTANT, gershgorin_spread, kw_epsilon,
                              kw_failure_probability, kw_steps, lambda_min_lower_bound)
from curvopt.lanczos import lanczos, random_start, ritz_extremes, ritz_pair, ritz_values
from curvopt.subproblem import cauchy_step, solve_trust_region

KINDS = ["pd", "indefinite", "singular", "clustered", "negative"]
EPS = np.finfo(float).eps


class Counted:
    """``v -> H v`` for a dense or sparse H, counting the calls."""

    def __init__(self, H, noise=None):
        self.H, self.calls, self.noise = H, 0, noise

    def __call__(self, v):
        self.calls += 1
        w = self.H @ v
        return w if self.noise is None else w + self.noise(v)


def spectrum(kind, n, rng):
    if kind == "pd":
        lam = rng.uniform(0.1, 10.0, n)
    elif kind == "indefinite":
        lam = 3.0 * rng.normal(size=n)
    elif kind == "singular":
        lam = rng.uniform(0.0, 5.0, n)
        lam[:2] = 0.0
    elif kind == "clustered":                         # three tight clusters, one negative
        lam = rng.choice([-2.0, 0.5, 3.0], n) + 1e-9 * rng.normal(size=n)
    else:
        lam = -rng.uniform(0.1, 5.0, n)
    return np.sort(lam)


def operator(kind, n, seed):
    rng = np.random.default_rng(seed)
    lam = spectrum(kind, n, rng)
    V = ortho_group.rvs(n, random_state=rng)
    return lam, V, V @ np.diag(lam) @ V.T, rng


def model(g, H, p):
    return float(g @ p + 0.5 * p @ (H @ p))


# --------------------------------------------------------------------------- Lanczos
@pytest.mark.parametrize("kind", KINDS)
def test_lanczos_basis_orthonormal_and_satisfies_lanczos_relation(kind):
    lam, V, H, rng = operator(kind, 80, 1)
    hp = Counted(H)
    lz = lanczos(hp, rng.normal(size=80), 30)
    scale = np.abs(lam).max()
    assert lz.nprod == hp.calls == lz.k
    assert np.abs(lz.Q @ lz.Q.T - np.eye(lz.k)).max() < 1e-13
    assert np.abs(lz.Q @ H @ lz.Q.T - lz.T).max() < 1e-12 * scale
    if not lz.breakdown:                    # H Q' = Q' T + beta_{k+1} q_{k+1} e_k'
        E = H @ lz.Q.T - lz.Q.T @ lz.T
        E[:, -1] -= lz.beta[-1] * lz.q_next
        assert np.abs(E).max() < 1e-12 * scale


def test_lanczos_breakdown_on_repeated_eigenvalues_returns_exact_distinct_eigenvalues():
    rng = np.random.default_rng(2)
    lam = np.repeat([-1.0, 2.0, 5.0], 10)
    V = ortho_group.rvs(30, random_state=rng)
    hp = Counted(V @ np.diag(lam) @ V.T)
    lz = lanczos(hp, random_start(30, seed=3), 20)
    assert lz.breakdown and lz.k == 3 and lz.nprod == hp.calls == 3 and lz.q_next is None
    np.testing.assert_allclose(ritz_values(lz.alpha, lz.beta[:-1])[0], [-1, 2, 5],
                               atol=1e-12)


def test_lanczos_started_on_an_eigenvector_breaks_down_after_one_product():
    lam, V, H, _ = operator("indefinite", 20, 4)
    lz = lanczos(Counted(H), V[:, 5], 10)
    assert lz.breakdown and lz.k == 1 and lz.nprod == 1
    assert abs(lz.alpha[0] - lam[5]) < 1e-12 * np.abs(lam).max()


def test_lanczos_reaches_the_whole_space_at_k_equals_n():
    lam, V, H, rng = operator("indefinite", 12, 5)
    lz = lanczos(Counted(H), rng.normal(size=12), 12)
    assert lz.k == 12 and lz.breakdown
    np.testing.assert_allclose(ritz_values(lz.alpha, lz.beta[:-1])[0], lam, atol=1e-11)


# --------------------------------------------------------------------------- Ritz bounds
@pytest.mark.parametrize("kind", KINDS)
def test_ritz_extremes_residual_bound_encloses_an_eigenvalue_and_rayleigh_bounds(kind):
    _, _, H, _ = operator(kind, 60, 6)
    lam = np.linalg.eigh(H)[0]                                           # the reference
    hp = Counted(H)
    lz = lanczos(hp, random_start(60, seed=7), 15)
    ext = ritz_extremes(hp, lz)
    assert ext.nprod == 2 and hp.calls == lz.k + 2 and ext.k == 15
    scale = np.abs(lam).max()
    for pair, end, gap in ((ext.lowest, lam[0], lam[1] - lam[0]),
                           (ext.highest, lam[-1], lam[-1] - lam[-2])):
        assert np.min(np.abs(lam - pair.theta)) <= pair.resid_bound      # some eigenvalue
        if 2 * pair.resid_bound < gap:          # the enclosed one is the extreme one
            assert abs(pair.theta - end) <= pair.resid_bound
        assert pair.resid <= pair.resid_bound
        # the cheap Lanczos estimate agrees with the explicit residual (exact arithmetic)
        assert abs(pair.resid - pair.resid_lanczos) <= 1e-8 * pair.resid + 1e-12 * scale
        true_rq = float(pair.y @ H @ pair.y) / float(pair.y @ pair.y)
        assert abs(pair.rayleigh - true_rq) <= pair.rayleigh_err
    assert lam[0] <= ext.lowest.lambda_min_upper                         # Courant-Fischer
    assert ext.highest.lambda_max_lower <= lam[-1]
    tiny = 1e-12 * scale                                                 # interlacing
    assert lam[0] - tiny <= ext.lowest.theta <= ext.highest.theta <= lam[-1] + tiny
    if kind in ("indefinite", "clustered", "negative"):
        assert ext.lowest.proves_negative_curvature


def test_rayleigh_quotient_error_propagates_product_error():
    lam, V, H, _ = operator("indefinite", 50, 8)
    err = 1e-3
    noise_rng = np.random.default_rng(9)

    def noise(v):                      # ||(Hv)_computed - Hv|| = err ||v||, arbitrary direction
        u = noise_rng.normal(size=v.size)
        return err * np.linalg.norm(v) * u / np.linalg.norm(u)

    hp = Counted(H, noise)
    lz = lanczos(hp, random_start(50, seed=10), 20)
    for idx in (0, -1):
        pair = ritz_pair(hp, lz, idx, err=err)
        true_rq = float(pair.y @ H @ pair.y) / float(pair.y @ pair.y)
        assert abs(pair.rayleigh - true_rq) <= pair.rayleigh_err
        assert np.min(np.abs(lam - pair.theta)) <= pair.resid_bound
        assert pair.rayleigh_err >= err * 0.999
    assert lam[0] <= ritz_pair(hp, lz, 0, err=err).lambda_min_upper


def test_no_negative_curvature_certificate_when_psd_and_products_err_downward():
    lam, V, H, _ = operator("singular", 40, 11)             # lambda_min = 0 exactly
    err = 1e-6
    hp = Counted(H, lambda v: -err * v)                     # computed operator H - err I
    lz = lanczos(hp, random_start(40, seed=12), 40)
    # the declared bound covers the perturbation and the rounding of H @ v (gamma_n ||H||):
    # without the latter, theta = -err - O(eps) is decided in the last bits
    pair = ritz_pair(hp, lz, 0, err=err + 2 * 40 * np.finfo(float).eps * np.max(np.abs(lam)))
    assert pair.theta < 0 and pair.rayleigh < 0             # looks negative ...
    assert not pair.proves_negative_curvature               # ... but is within the error
    assert np.min(np.abs(lam - pair.theta)) <= pair.resid_bound


# --------------------------------------------------------------------------- KW bound
@pytest.mark.parametrize("k,n,delta", [(1, 10, 0.5), (10, 1000, 0.1), (50, 10**5, 1e-3),
                                       (300, 10**5, 1e-6)])
def test_kw_epsilon_is_the_stated_formula_and_kw_steps_its_inverse(k, n, delta):
    eps = kw_epsilon(k, n, delta)
    expected = min(1.0, (np.log(1.648 * np.sqrt(n) / delta) / (2 * k - 1)) ** 2)
    assert KW_CONSTANT == 1.648 and eps == pytest.approx(expected, rel=1e-14)
    if eps < 1:
        assert kw_failure_probability(k, n, eps) == pytest.approx(delta, rel=1e-9)
        kk = kw_steps(eps * (1 + 1e-9), n, delta)
        assert kk <= k and kw_failure_probability(kk, n, eps * (1 + 1e-9)) <= delta
        assert kw_failure_probability(kk - 1, n, eps * (1 + 1e-9)) > delta if kk > 1 else True
    assert kw_epsilon(k + 1, n, delta) <= eps and kw_epsilon(k, n, delta / 10) >= eps


def _adversarial_diagonal(n, a):
    """lambda_1 = 0 isolated below a bulk in [a, 1] dense near a: Lanczos must amplify a
    tiny random component along e_1. Diagonal is no loss: a uniform start is rotation
    invariant, so Q diag(lam) Q' gives the same distribution of Ritz values."""
    u = np.linspace(0.0, 1.0, n - 1) ** 2
    return np.concatenate([[0.0], a + (1.0 - a) * u])


def _theta_extremes(lam, k, seeds):
    out = []
    for s in seeds:
        lz = lanczos(lambda v: lam * v, random_start(lam.size, seed=s), k)
        th = ritz_values(lz.alpha, lz.beta[:-1])[0]
        out.append((th[0], th[-1]))
    return np.array(out)


def test_kw_bound_failure_frequency_is_below_delta_on_an_adversarial_spectrum():
    n, k, delta, trials = 1000, 10, 0.1, 600
    eps = kw_epsilon(k, n, delta)
    lam = _adversarial_diagonal(n, 0.8 * eps)
    th = _theta_extremes(lam, k, range(trials))
    rel_err = (th[:, 0] - lam[0]) / (lam[-1] - lam[0])
    assert np.mean(rel_err > eps) <= delta
    # The spectrum is hard enough for this to be a real test: the bound is within a factor
    # 2 of the observed (1 - delta) quantile, so a constant wrong by a factor 2 in eps in
    # the unsafe direction would fail the assertion above.
    assert np.mean(rel_err > eps / 2) > delta


def test_lambda_min_lower_bound_from_the_same_run_holds_with_probability_one_minus_delta():
    n, k, delta, trials = 1000, 12, 0.2, 400
    lam = _adversarial_diagonal(n, 0.8 * kw_epsilon(k, n, delta / 2))
    th = _theta_extremes(lam, k, range(1000, 1000 + trials))
    lower = np.array([lambda_min_lower_bound(a, b, k, n, delta).lower for a, b in th])
    assert np.all(np.isfinite(lower))
    assert np.mean(lower > lam[0]) <= delta
    given = [lambda_min_lower_bound(a, b, k, n, delta, spread=1.0).lower for a, b in th]
    assert np.mean(np.array(given) > lam[0]) <= delta


def test_lambda_min_lower_bound_is_minus_infinity_when_k_is_too_small():
    b = lambda_min_lower_bound(-1.0, 1.0, 2, 10**4, 0.01)
    assert b.lower == -np.inf and b.epsilon >= 0.5


def laplacian(n, shift):
    """tridiag(-1, 2, -1) - shift I; eigenvalues 2 - 2 cos(j pi / (n + 1)) - shift."""
    H = scipy.sparse.diags([-np.ones(n - 1), 2.0 * np.ones(n), -np.ones(n - 1)],
                           [-1, 0, 1], format="csr") - shift * scipy.sparse.eye(n)
    lam = 2.0 - 2.0 * np.cos(np.arange(1, n + 1) * np.pi / (n + 1)) - shift
    return H.tocsr(), lam


def test_gershgorin_spread_bounds_the_true_spread_dense_and_sparse():
    for kind in KINDS:
        lam, V, H, _ = operator(kind, 30, 13)
        assert gershgorin_spread(H) >= lam[-1] - lam[0] - 1e-12
    H, lam = laplacian(500, 0.3)
    assert gershgorin_spread(H) == pytest.approx(4.0) and 4.0 >= lam.max() - lam.min()


def test_sparse_operator_ritz_bounds_and_kw_lower_bound_with_gershgorin_spread():
    n = 10**4
    H, lam = laplacian(n, 0.5)
    hp = Counted(H)
    lz = lanczos(hp, random_start(n, seed=14), 60)
    ext = ritz_extremes(hp, lz)
    assert hp.calls == 62
    lo, hi = lam.min(), lam.max()
    for pair in (ext.lowest, ext.highest):
        assert np.min(np.abs(lam - pair.theta)) <= pair.resid_bound
    assert lo <= ext.lowest.lambda_min_upper < 0 and ext.lowest.proves_negative_curvature
    assert ext.highest.lambda_max_lower <= hi
    bound = lambda_min_lower_bound(ext.lowest.theta, ext.highest.theta, lz.k, n, 1e-3,
                                   spread=gershgorin_spread(H))
    assert bound.spread_from == "given" and bound.lower <= lo <= ext.lowest.theta


# --------------------------------------------------------------------------- Steihaug
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("delta", [1e-3, 0.3, 10.0, 1e4])
def test_steihaug_decrease_at_least_cauchy_and_step_inside_radius(kind, delta):
    lam, V, H, rng = operator(kind, 40, 15)
    g = rng.normal(size=40)
    hp = Counted(H)
    step, info = steihaug_cg(hp, g, delta)
    m, scale = model(g, H, step.p), np.linalg.norm(g) * delta + abs(model(g, H, step.p))
    assert np.linalg.norm(step.p) <= delta * (1 + 1e-12)
    assert m <= model(g, H, cauchy_step(g, H, delta).p) + 1e-12 * scale
    assert step.predicted_reduction == pytest.approx(-m, rel=1e-9, abs=1e-12 * scale)
    assert info.nprod == hp.calls == info.niter
    if info.exit == "converged":                       # the residual rule, N&W eq. 7.3
        gn = np.linalg.norm(g)
        assert np.linalg.norm(H @ step.p + g) <= min(0.5, np.sqrt(gn)) * gn * (1 + 1e-8)


def test_steihaug_negative_curvature_exit_returns_direction_with_negative_curvature():
    lam, V, H, rng = operator("indefinite", 40, 16)
    g = rng.normal(size=40)
    step, info = steihaug_cg(Counted(H), g, 1e6)
    assert info.exit == "negative_curvature" and step.kind == "negative_curvature"
    d = info.d
    assert float(d @ H @ d) < 0
    assert info.curvature == pytest.approx(float(d @ H @ d) / float(d @ d), rel=1e-9)
    assert info.curvature >= lam[0] - 1e-12            # a Rayleigh quotient
    assert np.linalg.norm(step.p) == pytest.approx(1e6, rel=1e-12)
    assert model(g, H, step.p) <= model(g, H, cauchy_step(g, H, 1e6).p)


def test_steihaug_interior_solution_is_the_newton_step_on_positive_definite_H():
    lam, V, H, rng = operator("pd", 30, 17)
    g = rng.normal(size=30)
    step, info = steihaug_cg(Counted(H), g, 1e6, rtol=1e-12)
    assert info.exit == "converged" and step.kind == "newton" and step.mu == 0
    np.testing.assert_allclose(step.p, -np.linalg.solve(H, g), rtol=1e-8, atol=1e-10)
    assert info.residual <= 1e-12 * np.linalg.norm(g)


def test_steihaug_zero_gradient_and_maxiter_exits():
    lam, V, H, rng = operator("pd", 30, 18)
    step, info = steihaug_cg(Counted(H), np.zeros(30), 1.0)
    assert info.exit == "zero_gradient" and info.nprod == 0 and not np.any(step.p)
    step, info = steihaug_cg(Counted(H), rng.normal(size=30), 1e6, rtol=0.0, maxiter=3)
    assert info.exit == "maxiter" and info.nprod == 3 and step.kind == "newton"


# --------------------------------------------------------------------------- GLTR
def check_optimality(g, H, lam, V, delta, step, info, rtol):
    """N&W Thm. 4.1 against the dense exact solver, tolerances from the stopping rule."""
    gnorm = np.linalg.norm(g)
    exact = solve_trust_region(g, lam, V, delta)
    m, m_star = model(g, H, step.p), model(g, H, exact.p)
    slack = 1e-10 * (abs(m_star) + gnorm * delta)
    kkt = np.linalg.norm(H @ step.p + step.mu * step.p + g)
    pnorm = np.linalg.norm(step.p)
    # the reported residual is the exact-arithmetic identity beta_{k+1}|h_k|; forming p
    # and H p adds rounding of order n eps (||g|| + (||H|| + mu) ||p||)
    rounding = 100 * g.size * EPS * (gnorm + (np.abs(lam).max() + step.mu) * pnorm)
    assert pnorm <= delta * (1 + 1e-10)
    assert kkt == pytest.approx(info.kkt_residual, rel=1e-6, abs=rounding)
    # p solves the subproblem for g - e with ||e|| = kkt, so m - m* <= 2 ||e|| delta
    assert m_star - slack <= m <= m_star + 2 * max(rtol * gnorm, kkt) * delta + slack
    assert step.mu >= 0 and step.mu * (delta - pnorm) <= 1e-9 * max(step.mu, 1.0) * delta
    assert lam[0] + step.mu >= -1e-9 * np.abs(lam).max()          # H + mu I PSD
    assert step.predicted_reduction == pytest.approx(-m, rel=1e-8, abs=slack)
    return exact


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("delta", [1e-3, 0.3, 10.0, 1e4])
def test_gltr_matches_exact_solver_model_value_and_kkt_conditions(kind, delta):
    n, rtol = 50, 1e-10
    lam, V, H, rng = operator(kind, n, 19)
    g = rng.normal(size=n)
    hp = Counted(H)
    step, info = gltr(hp, g, delta, rtol=rtol, maxiter=n, ritz_steps=n, seed=20)
    assert info.nprod == hp.calls and info.exit in ("converged", "invariant")
    assert info.kkt_residual <= rtol * np.linalg.norm(g)
    check_optimality(g, H, lam, V, delta, step, info, rtol)
    assert info.negative_curvature == (lam[0] < 0)


def hard_case_problem(n, seed, multiplicity=1):
    rng = np.random.default_rng(seed)
    lam = np.sort(np.concatenate([[-2.0] * multiplicity,
                                  rng.uniform(-1.0, 4.0, n - multiplicity)]))
    V = ortho_group.rvs(n, random_state=rng)
    gt = rng.normal(size=n)
    gt[:multiplicity] = 0.0                          # g orthogonal to the bottom eigenspace
    g, H = V @ gt, V @ np.diag(lam) @ V.T
    p_rest = -gt[multiplicity:] / (lam[multiplicity:] + 2.0)
    return lam, V, H, g, float(np.linalg.norm(p_rest))


@pytest.mark.parametrize("multiplicity", [1, 2])
def test_gltr_hard_case_returns_both_signs_with_the_optimal_model_value(multiplicity):
    n, rtol = 40, 1e-10
    lam, V, H, g, norm_rest = hard_case_problem(n, 21, multiplicity)
    delta = 3.0 * norm_rest                          # hard case: ||p(-lambda_1)|| < delta
    hp = Counted(H)
    step, info = gltr(hp, g, delta, rtol=rtol, maxiter=n, ritz_steps=n, seed=22)
    exact = check_optimality(g, H, lam, V, delta, step, info, rtol)
    assert exact.kind == "hard_case" and step.kind == "hard_case" and step.hard_case
    assert step.mu == pytest.approx(2.0, rel=1e-9) and info.nprod == hp.calls
    assert np.linalg.norm(step.alt) == pytest.approx(delta, rel=1e-10)
    assert np.linalg.norm(step.alt - step.p) > delta      # the mirrored step
    m_star = model(g, H, exact.p)
    assert model(g, H, step.alt) == pytest.approx(m_star, rel=1e-8)
    # without the random-start run the Krylov space of g cannot see lambda_1
    plain, _ = gltr(Counted(H), g, delta, rtol=rtol, maxiter=n, ritz_steps=0)
    assert plain.mu < 2.0 and model(g, H, plain.p) > m_star + 1e-6 * abs(m_star)


def test_gltr_just_outside_the_hard_case_is_a_boundary_step():
    n, rtol = 40, 1e-10
    lam, V, H, g, norm_rest = hard_case_problem(n, 23)
    delta = 0.5 * norm_rest                          # ||p(-lambda_1)|| > delta: mu > 2
    step, info = gltr(Counted(H), g, delta, rtol=rtol, maxiter=n, ritz_steps=n)
    check_optimality(g, H, lam, V, delta, step, info, rtol)
    assert step.kind == "boundary" and step.mu > 2.0


def test_gltr_zero_gradient_at_saddle_steps_along_negative_curvature_both_signs():
    lam, V, H, _ = operator("indefinite", 30, 24)
    hp = Counted(H)
    step, info = gltr(hp, np.zeros(30), 0.7, ritz_steps=30, seed=25)
    assert info.exit == "zero_gradient" and info.negative_curvature
    assert step.kind == "hard_case" and np.allclose(step.alt, -step.p)
    assert np.linalg.norm(step.p) == pytest.approx(0.7, rel=1e-12)
    assert float(step.p @ H @ step.p) < 0 and step.mu == pytest.approx(-lam[0], rel=1e-9)
    assert step.predicted_reduction == pytest.approx(-model(np.zeros(30), H, step.p), rel=1e-9)
    assert info.ritz_min.proves_negative_curvature and info.nprod == hp.calls == 31


def test_gltr_zero_gradient_at_a_minimum_returns_zero_step_and_no_negative_curvature():
    lam, V, H, _ = operator("pd", 30, 26)
    step, info = gltr(Counted(H), np.zeros(30), 0.7)
    assert step.kind == "newton" and not np.any(step.p) and step.predicted_reduction == 0
    assert not info.negative_curvature and info.ritz_min.theta > 0


def test_gltr_and_steihaug_on_sparse_tridiagonal_operator_n_10000():
    n, rtol, delta = 10**4, 1e-8, 500.0
    H, lam = laplacian(n, 0.05)
    g = np.random.default_rng(27).normal(size=n)
    hp = Counted(H)
    step, info = gltr(hp, g, delta, rtol=rtol, seed=28)
    assert info.nprod == hp.calls and info.exit == "converged"
    kkt = np.linalg.norm(H @ step.p + step.mu * step.p + g)
    assert kkt <= rtol * np.linalg.norm(g) * (1 + 1e-6) + 1e-12
    assert np.linalg.norm(step.p) <= delta * (1 + 1e-10)
    assert lam.min() + step.mu >= -1e-6                 # H + mu I PSD (analytic spectrum)
    m = model(g, H, step.p)
    assert step.predicted_reduction == pytest.approx(-m, rel=1e-8)
    cg, cg_info = steihaug_cg(Counted(H), g, delta)
    assert m <= model(g, H, cg.p) + 1e-10 * abs(m)
    assert model(g, H, cg.p) <= model(g, H, cauchy_step(g, H, delta).p) + 1e-10 * abs(m)
    assert np.linalg.norm(cg.p) <= delta * (1 + 1e-12)


def test_gltr_maxiter_exit_reports_the_true_kkt_residual():
    n, delta = 10**4, 5e4                         # far too few steps for this radius
    H, lam = laplacian(n, 0.05)
    g = np.random.default_rng(29).normal(size=n)
    hp = Counted(H)
    step, info = gltr(hp, g, delta, rtol=1e-8, maxiter=40, ritz_steps=10)
    assert info.exit == "maxiter" and info.niter == 40 and hp.calls == 40 + 10 + 1
    kkt = np.linalg.norm(H @ step.p + step.mu * step.p + g)
    assert kkt > 1e-8 * np.linalg.norm(g)
    assert info.kkt_residual == pytest.approx(kkt, rel=1e-6)
    assert np.linalg.norm(step.p) <= delta * (1 + 1e-10)


# --------------------------------------------------------------------------- input errors
def test_input_errors_raise_specific_exceptions():
    H = np.eye(3)
    hp = Counted(H)
    with pytest.raises(TypeError, match="callable"):
        lanczos(H, np.ones(3), 2)
    with pytest.raises(ValueError, match="nonzero"):
        lanczos(hp, np.zeros(3), 2)
    with pytest.raises(ValueError, match="k must be"):
        lanczos(hp, np.ones(3), 4)
    with pytest.raises(ValueError, match="shape"):
        lanczos(lambda v: np.ones(4), np.ones(3), 2)
    with pytest.raises(ValueError, match="non-finite"):
        lanczos(lambda v: np.full(3, np.nan), np.ones(3), 2)
    with pytest.raises(ValueError, match="1-D"):
        steihaug_cg(hp, np.ones((3, 1)), 1.0)
    with pytest.raises(ValueError, match="delta"):
        gltr(hp, np.ones(3), 0.0)
    with pytest.raises(ValueError, match="ritz_steps"):
        gltr(hp, np.ones(3), 1.0, ritz_steps=4)
    with pytest.raises(ValueError, match="err"):
        ritz_pair(hp, lanczos(hp, np.ones(3), 1), 0, err=-1.0)
    with pytest.raises(ValueError, match="delta"):
        kw_epsilon(5, 10, 1.5)
    with pytest.raises(ValueError, match="epsilon"):
        kw_steps(0.0, 10, 0.1)
    with pytest.raises(ValueError, match="theta_min"):
        lambda_min_lower_bound(1.0, 0.0, 5, 10, 0.1)
