"""Tests of the large-n problem set (curvopt.problems.large): derivatives, patterns, optima.

Derivatives are checked against central differences with their own error bound: for
D(h) = (F(x + h v) - F(x - h v)) / 2h, Richardson's |D(h) - D(2h)| / 3 estimates the
truncation error h^2 |F'''| / 6 and eps |F| / h bounds the rounding (Nocedal & Wright 2006,
sec. 8.1); the tolerance is 10 times their sum. Full gradients and Hessians (of the exact
gradient) at small n, directional derivatives at the default n, independent formulas
(scipy's ``rosen`` family, the dense More-Garbow-Hillstrom versions, TRIDIA's value at its
start) as references. ``test_checks_can_fail`` shows each check rejecting a wrong answer.
"""
import numpy as np
import pytest
from scipy.optimize import minimize, rosen, rosen_der, rosen_hess, rosen_hess_prod

from curvopt.problems import LargeProblem, large_problem, large_problems
from curvopt.problems.large import band_matrix, band_matvec, tridia
from curvopt.problems.mgh import get_mgh_problem

EPS = np.finfo(float).eps
SEED = 20261130
SMALL_N = {"chained_rosenbrock_jit": 11, "spd_quadratic": 20, "coupled_quartic": 30,
           "tridia": 25, "ext_rosenbrock": 20, "broyden_tridiagonal": 15, "tridia_jit": 12,
           "double_well_chain": 17}
KINDS = list(SMALL_N)
DEFAULT = {p.name.rsplit("_", 1)[0]: p for p in large_problems()}
SMALL = {kind: large_problem(kind, n) for kind, n in SMALL_N.items()}
# structural nonzeros of H: tridiagonal, 2 x 2 blocks, pentadiagonal; None: dense H
NNZ = {"chained_rosenbrock_jit": lambda n: 3 * n - 2, "tridia": lambda n: 3 * n - 2,
       "tridia_jit": lambda n: 3 * n - 2, "double_well_chain": lambda n: 3 * n - 2,
       "ext_rosenbrock": lambda n: 2 * n, "broyden_tridiagonal": lambda n: 5 * n - 6}


def near_start(p, k=0):
    """A seeded random point near the start: x0 + 0.1 (1 + |x0|) N(0, 1)."""
    rng = np.random.default_rng([SEED, p.n, k])
    x = p.start()
    return x + 0.1 * (1.0 + np.abs(x)) * rng.standard_normal(p.n)


def along(F, x, v):
    """Central difference of F (scalar- or vector-valued) at x along v, and its bound."""
    h = EPS ** (1 / 3) * max(1.0, np.max(np.abs(x))) / np.max(np.abs(v))

    def D(s):
        return (np.asarray(F(x + s * v)) - np.asarray(F(x - s * v))) / (2 * s)

    d = D(h)
    scale = np.max(np.abs(F(x))) * np.max(np.abs(v))
    return d, 10 * (np.abs(d - D(2 * h)) / 3 + EPS * scale / h) + 1e-300


def assert_derivative(F, dF, x, v):
    """dF (the derivative of F at x along v, exact) within the central difference's bound."""
    d, bound = along(F, x, v)
    err = np.abs(np.asarray(dF) - d)
    assert np.all(err <= bound), f"max error / bound {np.max(err / bound):.3g}"


def assert_gradient(p, grad, x):
    g = grad(x)
    for j in range(p.n):
        assert_derivative(p.f, g[j], x, np.eye(p.n)[j])


def assert_pattern(p, pattern, x):
    """Every entry of the finite-difference Jacobian of grad beyond its bound is in pattern."""
    P = pattern.toarray()
    for j in range(p.n):
        d, bound = along(p.grad, x, np.eye(p.n)[j])
        outside = (np.abs(d) > bound) & ~P[:, j]
        assert not np.any(outside), f"column {j}: rows {np.flatnonzero(outside)} not in pattern"


@pytest.mark.parametrize("kind", KINDS)
def test_record(kind):
    p = DEFAULT[kind]
    assert isinstance(p, LargeProblem) and p.name == f"{kind}_{p.n}"
    assert p.x0.shape == (p.n,) and not p.x0.flags.writeable and p.reference
    assert p.hessp(p.start(), np.ones(p.n)).shape == (p.n,)
    if p.hess_sparsity is not None:
        P = p.hess_sparsity
        assert P.shape == (p.n, p.n) and P.dtype == bool and (P != P.T).nnz == 0
        assert P.nnz == NNZ[kind](p.n)


def test_default_sizes():
    sizes = {kind: p.n for kind, p in DEFAULT.items()}
    assert sizes == {"chained_rosenbrock_jit": 100, "spd_quadratic": 500,
                     "coupled_quartic": 1000, "tridia": 1000, "ext_rosenbrock": 1000,
                     "broyden_tridiagonal": 1000, "tridia_jit": 100_000,
                     "double_well_chain": 1000}


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_small_n(kind):
    p = SMALL[kind]
    assert_gradient(p, p.grad, near_start(p))


@pytest.mark.parametrize("kind", KINDS)
def test_hessian_and_hessp_small_n(kind):
    p = SMALL[kind]
    x = near_start(p)
    H = p.hess(x)
    assert np.array_equal(H, H.T)
    for j, e in enumerate(np.eye(p.n)):
        assert_derivative(p.grad, H[:, j], x, e)
    v = np.random.default_rng(SEED).standard_normal(p.n)
    np.testing.assert_allclose(p.hessp(x, v), H @ v, rtol=1e-12, atol=1e-12 * np.abs(H).max())


@pytest.mark.parametrize("kind", [k for k in KINDS if k in NNZ])
def test_pattern_holds_every_nonzero_small_n(kind):
    p = SMALL[kind]
    assert p.hess_sparsity.nnz == NNZ[kind](p.n)
    for k in range(2):
        assert_pattern(p, p.hess_sparsity, near_start(p, k))


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_and_hessp_default_n_along_random_directions(kind):
    p = DEFAULT[kind]
    x, rng = near_start(p), np.random.default_rng(SEED)
    for _ in range(2):
        v = rng.standard_normal(p.n)
        assert_derivative(p.f, p.grad(x) @ v, x, v)
        assert_derivative(p.grad, p.hessp(x, v), x, v)


@pytest.mark.parametrize("kind", KINDS)
def test_x_star_is_a_nondegenerate_minimizer(kind):
    p = DEFAULT[kind]
    assert p.f(p.x_star) == pytest.approx(p.f_star, abs=1e-20)
    assert np.max(np.abs(p.grad(p.x_star))) <= 1e-12
    small = SMALL[kind]
    assert np.linalg.eigvalsh(small.hess(small.x_star))[0] > 0


def test_chained_rosenbrock_is_scipys_rosen():
    for n in (11, 100):
        p = large_problem("chained_rosenbrock_jit", n)
        x, v = near_start(p), np.random.default_rng(SEED).standard_normal(n)
        assert p.f(x) == pytest.approx(rosen(x), rel=1e-14)
        np.testing.assert_array_equal(p.grad(x), rosen_der(x))
        np.testing.assert_allclose(p.hessp(x, v), rosen_hess_prod(x, v), rtol=1e-13)
    np.testing.assert_allclose(p.hess(x), rosen_hess(x), rtol=1e-13)


def test_chained_rosenbrock_local_minimum():
    """trust-exact (exact derivatives) from (-1, 1, ..., 1) ends at f_local, H(x) PD."""
    p = DEFAULT["chained_rosenbrock_jit"]
    x0 = np.ones(p.n)
    x0[0] = -1.0
    res = minimize(p.f, x0, jac=p.grad, hess=p.hess, method="trust-exact",
                   options={"gtol": 1e-10})
    assert p.f_local == (pytest.approx(res.fun, rel=1e-14),)
    assert np.linalg.eigvalsh(p.hess(res.x))[0] > 0.1


@pytest.mark.parametrize("kind", ["ext_rosenbrock", "broyden_tridiagonal"])
def test_matches_the_dense_mgh_version(kind):
    p, ref = large_problem(kind, 10), get_mgh_problem(f"{kind}_10")
    x = near_start(p)
    assert p.f(x) == pytest.approx(ref.f(x), rel=1e-13)
    np.testing.assert_allclose(p.grad(x), ref.grad(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p.hess(x), ref.hess(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(p.x0, ref.x0)


@pytest.mark.parametrize("n", [10, 1000, 100_000])
def test_tridia_value_at_start_and_jit_agree(n):
    """f(1) = sum_{i=2}^n i (2 - 1)^2 = n (n + 1) / 2 - 1 (the SIF definition)."""
    plain, jit = tridia(n), tridia(n, jit=True)
    assert plain.f(plain.start()) == jit.f(jit.start()) == n * (n + 1) / 2 - 1
    x = near_start(plain)
    assert jit.f(x) == pytest.approx(plain.f(x), rel=1e-12)


def test_spd_quadratic_is_seeded_with_condition_number_1e4():
    p, q = DEFAULT["spd_quadratic"], large_problem("spd_quadratic")
    np.testing.assert_array_equal(p.x_star, q.x_star)
    lam = np.linalg.eigvalsh(p.hess(p.x0))
    assert lam[0] == pytest.approx(1.0, rel=1e-9) and lam[-1] / lam[0] == pytest.approx(1e4)


def test_quartic_vectorized_agrees_with_scalar():
    p = DEFAULT["coupled_quartic"]
    assert p.vectorized
    X = np.column_stack([near_start(p, k) for k in range(5)])
    values = p.f(X)
    assert values.shape == (5,)
    np.testing.assert_allclose(values, [p.f(X[:, j]) for j in range(5)], rtol=1e-14)


def test_double_well_chain_starts_at_a_strict_saddle():
    p = DEFAULT["double_well_chain"]
    x0 = p.start()
    assert np.array_equal(x0, p.saddle) and "saddle_start" in p.tags
    assert not np.any(p.grad(x0))
    lam = np.linalg.eigvalsh(p.hess(x0))
    assert lam[0] == pytest.approx(-1.0, abs=1e-12) and lam[-1] > 2.9
    assert 0.3 < np.mean(lam < 0) < 0.4
    u = np.ones(p.n) / np.sqrt(p.n)
    np.testing.assert_allclose(p.hessp(x0, u), -u, atol=1e-14)


def test_band_helpers_agree():
    rng = np.random.default_rng(SEED)
    bands = [rng.standard_normal(9 - k) for k in range(3)]
    p = rng.standard_normal(9)
    H = band_matrix(bands).toarray()
    np.testing.assert_allclose(band_matvec(bands, p), H @ p, rtol=1e-14)
    assert np.array_equal(np.diag(H, 2), bands[2]) and np.array_equal(np.diag(H, -2), bands[2])


def test_checks_can_fail():
    """A gradient wrong by 1e-6 in one entry and a pattern without the off-diagonals fail."""
    p = SMALL["tridia"]
    x = near_start(p)

    def wrong(z):
        g = p.grad(z)
        g[3] *= 1 + 1e-6
        return g

    with pytest.raises(AssertionError):
        assert_gradient(p, wrong, x)
    with pytest.raises(AssertionError, match="not in pattern"):
        assert_pattern(p, band_matrix([np.ones(p.n)]) != 0, x)


def test_unknown_kind_and_odd_n_raise():
    with pytest.raises(ValueError, match="unknown large problem"):
        large_problem("no_such_problem")
    with pytest.raises(ValueError, match="even"):
        large_problem("ext_rosenbrock", 11)
