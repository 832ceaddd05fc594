"""Tests of curvopt.model.local_model: the four sources of H, counts, bounds, the float32 case."""
import numpy as np
import pytest

from curvopt.model import LocalModel, local_model
from curvopt.objective import Objective
from curvopt.problems.accuracy import rosenbrock

P = rosenbrock(8)


def test_cheap_path_counts_and_nan_bounds():
    n = P.x.size
    obj = Objective(P.f_jit, P.x)
    m = local_model(obj, P.x, errors=False)
    assert m.nfev == 2 * n * n + 1 and obj.nfev == m.nfev
    assert np.isnan(m.H_err).all() and np.isnan(m.g_err).all()
    assert np.array_equal(m.H, m.H.T) and not m.exact_hessian
    m2 = local_model(obj, P.x, f0=m.f, errors=False)
    assert m2.nfev == 2 * n * n
    assert np.abs(m.H - P.hess(P.x)).max() <= 1e-5 * np.abs(P.hess(P.x)).max()


def test_full_path_bounds_cover():
    obj = Objective(P.f_jit, P.x)
    m = local_model(obj, P.x)
    assert isinstance(m, LocalModel)
    assert np.all(m.H_err >= np.abs(m.H - P.hess(P.x)))
    assert np.all(m.g_err >= np.abs(m.g - P.grad(P.x)))
    assert m.noise is not None and m.f_noise == m.noise.sigma and m.noise.nfev >= 6


def test_user_hessian_and_hessp():
    Ht = P.hess(P.x)
    for kw in ({"hess": P.hess}, {"hessp": lambda x, v: P.hess(x) @ v}):
        obj = Objective(P.f, P.x, jac=P.grad, **kw)
        m = local_model(obj, P.x)
        assert m.exact_hessian and np.array_equal(m.H, m.H.T)
        assert np.allclose(m.H, Ht, rtol=0, atol=1e-12)
        assert np.all(m.H_err > 0) and np.all(m.H_err <= 1e-12 * np.abs(Ht).max())
        assert m.nfev == 1 and np.array_equal(m.g, P.grad(P.x))


def test_gradient_only_uses_jac_differences():
    obj = Objective(P.f, P.x, jac=P.grad)
    m = local_model(obj, P.x)
    assert not m.exact_hessian
    assert np.all(m.H_err >= np.abs(m.H - P.hess(P.x)))
    assert obj.njev == 1 + 4 * P.x.size
    cheap = local_model(Objective(P.f, P.x, jac=P.grad), P.x, f0=m.f, errors=False)
    assert cheap.nfev == 0 and np.isnan(cheap.H_err).all()


def test_hessian_only_differences_the_gradient():
    obj = Objective(P.f, P.x, hess=P.hess)
    m = local_model(obj, P.x)
    assert np.all(m.g_err >= np.abs(m.g - P.grad(P.x)))


def test_non_finite_base_point():
    obj = Objective(lambda x: np.inf, [1.0])
    with pytest.raises(ValueError, match="base point"):
        local_model(obj, [1.0])


def _bce_case(shift, seed=7):
    """Case 1: BCE with soft targets in float32 arithmetic, 100 x 100 uniform inputs.

    As torch's BCELoss, logs are clamped at -100.  Returns (f, true Hessian in float64, w).
    """
    rng = np.random.default_rng(seed)
    X = rng.random((100, 100)).astype(np.float32)
    t = rng.random(100).astype(np.float32)
    w = (rng.random(100) - shift).astype(np.float32)
    one = np.float32(1)

    def f(w):
        s = one / (one + np.exp(-(X @ w)))
        with np.errstate(divide="ignore"):
            ls = np.maximum(np.log(s), np.float32(-100))
            l1s = np.maximum(np.log(one - s), np.float32(-100))
        return -np.sum(t * ls + (one - t) * l1s)

    X64 = X.astype(np.float64)
    s = 1.0 / (1.0 + np.exp(-(X64 @ w.astype(np.float64))))
    return f, (X64.T * (s * (1.0 - s))) @ X64, w


@pytest.mark.parametrize("shift", [0.25, 0.5])
def test_float32_bce_negative_eigenvalues_are_not_claimed(shift):
    """The FD Hessian of the float32 loss has negative eigenvalues; the true one is PSD.

    Weyl: |lam_k(H) - lam_k(H_true)| <= ||E||_2 <= ||H_err||_F, so an eigenvalue is
    claimed negative only below -||H_err||_F.  None may be.  With weights uniform - 0.25
    (the case) some rows saturate to s = 1 in float32 and hit the -100 clamp: f is not
    smooth at the step scale and only the eigenvalue claim is checked; with - 0.5 it is
    smooth up to noise and the bound must also cover every entry.
    """
    f, Ht, w = _bce_case(shift)
    assert np.linalg.eigvalsh(Ht).min() > -1e-9
    m = local_model(Objective(f, w), w)
    lam = np.linalg.eigvalsh(m.H)
    weyl = np.linalg.norm(m.H_err, "fro")
    assert lam.min() < 0                      # the raw estimate does look indefinite
    assert np.all(lam >= -weyl)              # ... but not beyond its error bound
    if shift == 0.5:
        assert np.all(m.H_err >= np.abs(m.H - Ht))


def test_random_quadratics_bounds_cover_rounding():
    """60 seeded quadratics (n 2..11, eigenvalues +-1e-3..1e3, |x| 1e-2..1e3): at critical
    points with f = 0, 1 or 1e3, at general points, and next to critical points.  Truncation
    is zero, so the bound must cover the rounding of f (and of x +- h) alone."""
    for seed in range(60):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(2, 12))
        Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        A = (Q * (rng.choice([-1, 1], n) * 10.0 ** rng.uniform(-3, 3, n))) @ Q.T
        A = 0.5 * (A + A.T)
        x = 10.0 ** rng.uniform(-2, 3) * rng.standard_normal(n)
        b, c = (A @ x, [0.0, 1.0, 1e3][seed % 3]) if seed % 2 else (rng.standard_normal(n), 0.0)
        if seed % 5 == 0:
            x = x + 1e-6 * rng.standard_normal(n)
        m = local_model(Objective(lambda y: 0.5 * y @ A @ y - b @ y + c, x), x)
        assert np.all(m.H_err >= np.abs(m.H - A)), seed
        assert np.all(m.g_err >= np.abs(m.g - (A @ x - b))), seed


def test_cheap_user_hessian_with_fd_gradient_counts():
    n = P.x.size
    m = local_model(Objective(P.f, P.x, hess=P.hess), P.x, errors=False)
    assert m.nfev == 2 * n + 1 and np.isnan(m.g_err).all() and m.exact_hessian


def test_errors_path_reuses_the_cheap_stencil():
    # local_model(errors=True, reuse=cheap) adds only the stencil at 2h, the smoothness
    # axis points and the gradient: 2n^2 evaluations fewer than a full build at the same
    # steps, with the same estimates and bounds; a model at another x is not reused.
    n = P.x.size
    obj = Objective(P.f_jit, P.x)
    cheap = local_model(obj, P.x, errors=False)
    assert cheap.stencil is not None and np.array_equal(cheap.stencil.H, cheap.H)
    m = local_model(obj, P.x, f0=cheap.f, reuse=cheap)
    full = local_model(Objective(P.f_jit, P.x), P.x, f0=cheap.f, step=cheap.step)
    assert full.nfev - m.nfev == 2 * n * n
    for a in ("H", "H_err", "g", "g_err"):
        assert np.allclose(getattr(m, a), getattr(full, a), rtol=1e-12, atol=0), a
    assert m.stencil is None and np.all(m.H_err >= np.abs(m.H - P.hess(P.x)))
    x1 = P.x + 1e-3
    other = local_model(Objective(P.f_jit, x1), x1, reuse=cheap)
    assert other.nfev >= full.nfev + 1


def test_gradient_steps_from_third_derivatives():
    # f = exp(x0) + 1e6 x1^3: t = (e^x0, 6e6) at x = (0, 1). Two exact central differences
    # D(h) = f' + t h^2 / 6 + t5 h^4 / 120 give t back; the steps are the minimizers
    # (3 sigma / t)^(1/3) of h^2 t / 6 + sigma / h, clipped to [1e-2, 1] x default.
    from curvopt.fd.steps import AxisDifferences
    from curvopt.fd.steps import third_derivative_steps as gradient_steps
    f = lambda x: np.exp(x[0]) + 1e6 * x[1] ** 3
    x, sigma, rel = np.array([0.0, 1.0]), 1e-12, 2.2e-16

    def central(h):
        E = np.eye(2) * h
        return np.array([(f(x + E[i]) - f(x - E[i])) / (2 * h[i]) for i in range(2)])
    ha, hb = np.array([0.1, 0.1]), np.array([0.05, 0.05])
    pair = AxisDifferences(central(ha), ha, central(hb), hb)
    t = pair.third(sigma)
    np.testing.assert_allclose(t, [1.0, 6e6], rtol=2e-3)
    h0 = rel ** (1 / 3) * np.maximum(1.0, np.abs(x))
    h = gradient_steps(x, pair, sigma, rel)
    np.testing.assert_allclose(h, np.clip(np.cbrt(3 * sigma / t), 1e-2 * h0, h0), rtol=1e-12)
    assert h[1] < h0[1] and h[0] == h0[0]
    # a tolerance that the default step already meets keeps the default
    assert np.array_equal(gradient_steps(x, pair, sigma, rel, tol=1.0), h0)
    # a difference within the rounding K sigma (1/h_a + 1/h_b) is not a third derivative
    flat = AxisDifferences(np.array([1.0, 1.0]), ha, np.array([1.0 + 1e-11, 1.0]), hb)
    assert np.array_equal(flat.third(sigma), [0.0, 0.0])
    assert np.array_equal(gradient_steps(x, None, sigma, rel), h0)


def test_stencil_not_reused_when_the_measured_noise_asks_for_larger_steps():
    # f with noise ~1e-6 (a deterministic high-frequency term): the cheap model's steps
    # assumed f_eps; ECnoise at x measures the noise, whose steps are far larger, so the
    # errors path builds its own stencils (full count) instead of reusing the cheap one.
    n = 2
    f = lambda x: (x[0] - 1) ** 2 + (x[1] + 2) ** 2 + 1e-6 * np.sin(1e9 * (x[0] + 2 * x[1]))
    x = np.array([0.3, 0.4])
    obj = Objective(f, x)
    cheap = local_model(obj, x, errors=False)
    m = local_model(obj, x, f0=cheap.f, reuse=cheap)
    assert np.all(m.step > 2 * cheap.step)
    assert m.nfev >= 4 * n * n + 2 * n
