"""Tests of curvopt.differentiate against analytic derivatives and numdifftools.

Relative error of a Hessian estimate: max |H - H_true| / max |H_true| (per matrix).
The error bound must cover the true error entry by entry (no extra slack beyond the
documented S_TRUNC = 3 and K_NOISE = 8 built into the bound).
"""
import numpy as np
import pytest
from numba import njit

from curvopt.differentiate import gradient, hessian, hessp
from curvopt.fd.estimates import gradient_estimate
from curvopt.objective import NonFiniteError
from curvopt.problems.accuracy import accuracy_problems, rosenbrock

PROBLEMS = {p.name: p for p in accuracy_problems()}


@njit
def scaled_jit(x, s):
    """Badly scaled: f = sum exp(s_i x_i) + (x_0 x_1)^2 with s over 4 decades."""
    return np.sum(np.exp(s * x)) + (x[0] * x[1]) ** 2


def scaled_grad(x, s):
    g = s * np.exp(s * x)
    g[0] += 2 * x[0] * x[1] ** 2
    g[1] += 2 * x[1] * x[0] ** 2
    return g


def scaled_hess(x, s):
    H = np.diag(s * s * np.exp(s * x))
    H[0, 0] += 2 * x[1] ** 2
    H[1, 1] += 2 * x[0] ** 2
    H[0, 1] = H[1, 0] = 4 * x[0] * x[1]
    return H


S = np.logspace(-2, 2, 6)
XS = np.array([0.3, -0.7, 0.02, 0.01, -0.005, 0.004])


def rel_err(H, Ht):
    return np.abs(H - Ht).max() / np.abs(Ht).max()


@pytest.mark.parametrize("name", ["rosenbrock", "logistic", "quadratic"])
def test_accuracy_set_hessian_and_bound(name):
    p = PROBLEMS[name]
    r = hessian(p.f_jit, p.x, p.args)
    Ht = p.hess(p.x)
    assert rel_err(r.value, Ht) <= 1e-5
    assert np.all(r.error >= np.abs(r.value - Ht))
    assert np.array_equal(r.value, r.value.T)
    assert np.all(r.gradient.error >= np.abs(r.gradient.value - p.grad(p.x)))
    n = p.x.size
    base = 4 * n * n + 2 * n + 1     # two stencils, third axis step, f(x)
    assert base + 6 <= r.nfev <= base + 18     # ECnoise: one to three lines of 6
    assert r.smooth


@pytest.mark.parametrize("name", ["rosenbrock", "logistic", "quadratic"])
def test_as_accurate_as_numdifftools_fixed_step(name):
    import numdifftools as nd
    p = PROBLEMS[name]
    f = (lambda x: p.f_jit(x, *p.args))
    h = 2e-4
    r = hessian(p.f_jit, p.x, p.args, step=h, noise=0.0, error=False)
    assert r.nfev == 2 * p.x.size ** 2 + 1
    Hn = nd.Hessian(f, step=h)(p.x)
    Ht = p.hess(p.x)
    assert rel_err(r.value, Ht) <= 1.01 * rel_err(Hn, Ht)


def test_badly_scaled_gradient_and_hessian_bounds():
    for scheme in ("central", "forward"):
        r = gradient(scaled_jit, XS, (S,), scheme=scheme)
        assert np.all(r.error >= np.abs(r.value - scaled_grad(XS, S))), scheme
    r = hessian(scaled_jit, XS, (S,))
    Ht = scaled_hess(XS, S)
    assert np.all(r.error >= np.abs(r.value - Ht))
    # one step rule for scales 1e-2..1e2: truncation (s h)^2 on the stiff coordinate
    assert rel_err(r.value, Ht) <= 1e-4


def test_paths_agree():
    """The Python and vectorized paths evaluate the same function and agree exactly; the
    compiled loop evaluates the @njit function, whose arithmetic may differ in the last bits
    (numba's sum and exp are not numpy's SIMD kernels, and differ by version and CPU), so it
    agrees far inside the error bound. Also where the steps shrink at a domain edge and for a
    float32 x."""
    p = rosenbrock(6)
    cases = [(p.f_jit, p.x, ()), (njit(domain_f), np.array([1e-5, 0.7, 1e-5]), ()),
             (scaled_jit, XS.astype(np.float32), (S,))]
    for f, x, args in cases:
        py_f = getattr(f, "py_func", f)
        py = hessian(py_f, x, args)
        vec = hessian(lambda X, *a: np.array([py_f(X[:, k].copy(), *a)
                                              for k in range(X.shape[1])]), x, args,
                      vectorized=True)
        assert np.array_equal(vec.value, py.value) and np.array_equal(vec.error, py.error)
        assert np.array_equal(vec.gradient.value, py.gradient.value)
        assert vec.nfev == py.nfev
        jit = hessian(f, x, args)
        tiny = 1e-12 * np.abs(py.value) + 1e-300
        assert np.all(np.abs(jit.value - py.value) <= 1e-2 * py.error + tiny)
        assert np.allclose(jit.error, py.error, rtol=1e-3, atol=0)
        assert np.all(np.abs(jit.gradient.value - py.gradient.value)
                      <= 1e-2 * py.gradient.error + 1e-12 * np.abs(py.gradient.value))


def test_step_options_and_float32():
    p = rosenbrock(4)
    r = hessian(p.f_jit, p.x, step=1e-3, error=False)
    assert np.allclose(r.step, 1e-3, rtol=1e-12)
    r = hessian(p.f_jit, p.x, rel_step=1e-3, error=False)
    assert np.allclose(r.step, 1e-3 * np.maximum(1, np.abs(p.x)), rtol=1e-12)
    x32 = p.x.astype(np.float32)
    Ht = p.hess(x32.astype(np.float64))
    for f in (lambda x: np.float32(p.f(x)), p.f_jit):     # Python and compiled float32 paths
        r = hessian(f, x32)
        assert np.all(r.error >= np.abs(r.value - Ht))
        assert rel_err(r.value, Ht) <= 1e-2


def test_noisy_simulation_bound():
    """Rosenbrock plus seeded N(0, 1e-6) noise per call: steps and bounds widen."""
    p = rosenbrock(4)
    rng = np.random.default_rng(11)
    r = hessian(lambda x: p.f(x) + 1e-6 * rng.standard_normal(), p.x)
    Ht = p.hess(p.x)
    assert 3e-7 <= r.noise <= 3e-6
    assert np.all(r.error >= np.abs(r.value - Ht))
    assert rel_err(r.value, Ht) <= 1e-2


def test_hessp_with_and_without_gradient():
    v = np.random.default_rng(5).standard_normal(6)
    Hv = scaled_hess(XS, S) @ v
    for jac in (None, scaled_grad):
        r = hessp(scaled_jit, XS, v, (S,), jac=jac)
        assert np.all(np.abs(r.value - Hv) <= r.error)
        assert np.linalg.norm(r.error) <= 1e-4 * np.linalg.norm(Hv)
    assert hessp(scaled_jit, XS, np.zeros(6), (S,)).nfev == 0


def domain_f(x):
    """Smooth inside x_0 > 0, x_2 > 0 and NaN outside (a simulation that fails there)."""
    return np.exp(x[0]) * x[1] + x[1] ** 2 * x[2] if x[0] > 0 and x[2] > 0 else np.nan


def domain_hess(x):
    e = np.exp(x[0])
    return np.array([[e * x[1], e, 0], [e, 2 * x[2], 2 * x[1]], [0, 2 * x[1], 0]])


@pytest.mark.parametrize("x", [[3e-4, 0.7, 5e-4], [1e-5, 0.7, 1e-5]])
def test_steps_shrink_near_a_domain_edge_and_bounds_cover(x):
    x = np.array(x)
    r = hessian(domain_f, x)
    assert np.all(np.isfinite(r.value)) and np.array_equal(r.value, r.value.T)
    assert np.all(r.error >= np.abs(r.value - domain_hess(x)))
    assert r.step[0] < 0.5e-4 and r.step[1] > r.step[0]      # shrunk toward the edge
    g = np.array([np.exp(x[0]) * x[1], np.exp(x[0]) + 2 * x[1] * x[2], x[1] ** 2])
    assert np.all(r.gradient.error >= np.abs(r.gradient.value - g))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_log_singularity_near_the_point_is_covered():
    """log(x) (1 + y^2) at x = 2e-4: the default stencil reaches x <= 0; the bound must
    cover the error (or say it was not estimated)."""
    x = np.array([2e-4, 1.0])
    r = hessian(lambda z: np.log(z[0]) * (1 + z[1] ** 2), x)
    H = np.array([[-2.0 / x[0] ** 2, 2.0 / x[0]], [2.0 / x[0], 2.0 * np.log(x[0])]])
    assert np.all(r.error >= np.abs(r.value - H))
    assert np.abs(r.value - H).max() / np.abs(H).max() < 0.05


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_non_finite_values():
    with pytest.raises(ValueError, match="base point"):
        hessian(lambda x: np.log(x[0]) + x[1], [-1.0, 1.0])
    with pytest.raises(NonFiniteError, match="both sides"):
        hessian(lambda x: x @ x if x[0] == 1.0 else np.nan, [1.0, 2.0], noise=1e-16)
    r = gradient(lambda x: np.sqrt(x[0]) + x[1] ** 2, [1e-9, 1.0], step=1e-4)
    assert np.isnan(r.error[0]) and np.isfinite(r.value[0])     # one-sided: not estimated
    assert abs(r.value[1] - 2.0) <= r.error[1]
    with pytest.raises(ValueError, match="scheme"):
        gradient(lambda x: x @ x, [1.0], scheme="backward")


def test_random_smooth_functions_bounds_cover():
    """40 seeded f = s (sum cos(Wx) + 0.1 sum (Wx)^4 + a'x), W with column scales over 2
    decades, s over 6 decades: Hessian, gradient and hessp bounds cover the true error."""
    for seed in range(40):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(2, 8))
        W = rng.standard_normal((n, n)) * 10.0 ** rng.uniform(-1, 1, n)
        a, s = rng.standard_normal(n), 10.0 ** rng.uniform(-3, 3)
        x = rng.standard_normal(n) * 10.0 ** rng.uniform(-1, 0.5)
        z = W @ x
        g_true = s * (W.T @ (-np.sin(z) + 0.4 * z ** 3) + a)
        H_true = s * (W.T * (-np.cos(z) + 1.2 * z ** 2)) @ W

        def f(y):
            u = W @ y
            return s * (np.sum(np.cos(u)) + 0.1 * np.sum(u ** 4) + a @ y)
        r = hessian(f, x)
        assert np.all(r.error >= np.abs(r.value - H_true)), seed
        g = gradient(f, x)
        assert np.all(g.error >= np.abs(g.value - g_true)), seed
        v = rng.standard_normal(n)
        hv = hessp(f, x, v)
        assert np.all(np.abs(hv.value - H_true @ v) <= hv.error), seed


def test_cheap_gradient_counts_and_bound():
    """gradient_estimate(errors=False): 2n (central) / n (forward) evaluations; with the
    analytic bound on the third (central) or second (forward) derivative of
    f = sum exp(s_i x_i) + (x_0 x_1)^2 it covers the true error; without it the bound is
    NaN but the rounding part is given."""
    from curvopt.fd.steps import default_steps
    from curvopt.objective import Objective
    obj = Objective(scaled_jit, XS, (S,))
    f0 = obj.f(XS)
    gt = scaled_grad(XS, S)
    big = 1.01 * np.abs(XS).max() + 1e-3                      # |x_i +- h_i| <= big
    d3 = S ** 3 * np.exp(np.abs(S) * big) + 12 * big          # >= |f'''| along e_i near x
    d2 = np.abs(np.diag(scaled_hess(XS, S))) * 1.01 + 1.0      # >= |f''_ii| near x
    eps = np.finfo(float).eps
    for scheme, deriv, cost in (("central", d3, 12), ("forward", d2, 6)):
        h = default_steps(XS, eps, scheme)
        r = gradient_estimate(obj, XS, f0, eps * abs(f0), h, scheme=scheme, errors=False,
                              deriv=deriv)
        assert r.nfev == cost
        assert np.all(r.error >= np.abs(r.value - gt)) and np.all(r.error >= r.rounding)
        r = gradient_estimate(obj, XS, f0, eps * abs(f0), h, scheme=scheme, errors=False)
        assert np.all(np.isnan(r.error)) and np.all(np.isfinite(r.rounding))
    x = np.array([1e-9, 1.0])                                   # sqrt: left side NaN
    o2 = Objective(lambda y: np.sqrt(y[0]) + y[1] ** 2 if y[0] >= 0 else np.nan, x)
    r = gradient_estimate(o2, x, o2.f(x), 0.0, np.full(2, 1e-4), errors=False,
                          deriv=[0.0, 0.0])                     # f''' = 0 in x_1
    assert np.isnan(r.error[0]) and np.isfinite(r.value[0])
    assert abs(r.value[1] - 2.0) <= r.error[1]


def test_dense_assembly_in_the_combine_kernel_is_assemble():
    """combine_pairs assembles H in the same call when asked: the same matrix as
    assemble() of its entry form, on a partial pattern too."""
    from curvopt.fd.stencils import assemble, combine_pairs
    rng = np.random.default_rng(3)
    n = 5
    I, J = (a.astype(np.int64) for a in np.triu_indices(n, 1))
    keep = np.array([0, 3, 4, 8])                      # a pattern: 4 of the 10 pairs
    for I_, J_ in ((I, J), (I[keep], J[keep])):
        h, h2 = rng.uniform(1e-4, 1e-3, n), rng.uniform(2e-4, 2e-3, n)
        vals = rng.standard_normal(2 * n + 4 * I_.shape[0])
        d, o, g, H, _, _ = combine_pairs(0.5, vals, I_, J_, h, h2, True)
        assert np.array_equal(H, assemble(n, I_, J_, d, o))
        assert combine_pairs(0.5, vals, I_, J_, h, h2)[3].shape == (0, 0)
