"""Tests of curvopt.objective: validation, the three evaluation paths, counting, budget."""
import numpy as np
import pytest
from numba import config, njit
from scipy.optimize._optimize import MemoizeJac

from curvopt.objective import BudgetExhausted, Objective, validate_x0

JIT = not config.DISABLE_JIT      # under NUMBA_DISABLE_JIT=1 @njit functions are plain


@njit
def sq_jit(x, c):
    return np.sum((x - c) ** 2)


@njit
def sq_fg_jit(x, c):
    return np.sum((x - c) ** 2), 2.0 * (x - c)


def sq_py(x, c):
    return float(np.sum((x - c) ** 2))


def test_x0_validation():
    assert validate_x0([1, 2]).dtype == np.float64
    assert validate_x0(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert validate_x0(2.0).shape == (1,)
    for bad, word in ((np.ones((2, 2)), "1-D"), ([1j, 2], "real"), (np.array([None]), "real"),
                      ([np.nan, 1.0], "finite"), ([], "at least one")):
        with pytest.raises(ValueError, match=word):
            validate_x0(bad)


def test_output_checks_and_size1_arrays():
    obj = Objective(lambda x: np.array([[x @ x]]), [1.0, 2.0])
    assert obj.f([1.0, 2.0]) == 5.0
    bad = Objective(lambda x: x, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"scalar.*shape \(2,\)"):
        bad.f([1.0, 2.0])
    with pytest.raises(ValueError, match="real"):
        Objective(lambda x: 1j, [1.0]).f([1.0])


def test_three_paths_agree_and_count():
    c = np.array([0.5, -1.0, 2.0])
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 3))
    calls = []

    def vec(Xt, c):
        calls.append(Xt.shape)
        return np.sum((Xt - c[:, None]) ** 2, axis=0)

    objs = [Objective(sq_py, np.zeros(3), (c,)), Objective(vec, np.zeros(3), (c,), vectorized=True),
            Objective(sq_jit, np.zeros(3), (c,))]
    assert [o.is_jit for o in objs] == [False, False, JIT]
    ref = np.array([sq_py(x, c) for x in X])
    for o in objs:
        assert np.allclose(o.f_many(X), ref, rtol=1e-15)
        assert o.nfev == 7
        assert np.isclose(o.best_f, ref.min()) and np.allclose(o.best_x, X[ref.argmin()])
    assert calls == [(3, 7)]          # one call for the whole batch


def test_memoize_jac_is_detected_as_jit():
    c = np.array([1.0, 2.0])
    m = MemoizeJac(sq_fg_jit)
    obj = Objective(m, np.zeros(2), (c,), jac=m.derivative)
    assert obj.is_jit == JIT
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    assert np.allclose(obj.f_many(X), [5.0, 1.0])
    assert np.allclose(obj.grad(np.zeros(2)), [-2.0, -4.0]) and obj.njev == 1


def test_jac_true_shares_the_evaluation():
    c = np.array([1.0, 2.0])
    obj = Objective(lambda x, c: (sq_py(x, c), 2 * (x - c)), np.zeros(2), (c,), jac=True)
    assert obj.f(np.zeros(2)) == 5.0
    assert np.allclose(obj.grad(np.zeros(2)), [-2.0, -4.0])
    assert (obj.nfev, obj.njev) == (1, 1)


@pytest.mark.parametrize("fun", [sq_py, sq_jit])
def test_budget_raises_before_exceeding(fun):
    c = np.zeros(2)
    obj = Objective(fun, np.ones(2), (c,), maxfev=5)
    for _ in range(4):
        obj.f(np.ones(2))
    with pytest.raises(BudgetExhausted):
        obj.f_many(np.ones((2, 2)))     # would need 6
    assert obj.nfev == 4
    obj.f(np.ones(2))
    with pytest.raises(BudgetExhausted):
        obj.f(np.ones(2))
    assert obj.nfev == 5


def test_user_exceptions_propagate_unchanged():
    class Boom(Exception):
        pass

    def f(x):
        raise Boom("from user")

    with pytest.raises(Boom, match="from user"):
        Objective(f, [1.0]).f([1.0])


def test_bad_arguments():
    with pytest.raises(TypeError):
        Objective(3.0, [1.0])
    with pytest.raises(TypeError, match="jac"):
        Objective(sq_py, [1.0], jac="2-point")
    with pytest.raises(ValueError, match="maxfev"):
        Objective(sq_py, [1.0], maxfev=0)
    with pytest.raises(ValueError, match="shape"):
        Objective(sq_py, [1.0, 2.0], (np.zeros(2),)).f([1.0])


@njit
def size1_jit(x):
    return np.array([np.sum(x * x)])


def test_jit_function_returning_size1_array_falls_back_to_python_loop():
    obj = Objective(size1_jit, np.ones(2))
    assert np.allclose(obj.f_many(np.eye(2)), [1.0, 1.0])
    assert obj.nfev == 2 and not obj.is_jit


@njit(cache=True)
def cached_quartic(x):
    return np.sum(x ** 4) + x[0] * x[1]


@njit(cache=True)
def cached_f32(x):
    return np.float32(np.sum(x ** 2))


def test_cached_objective_without_args_uses_the_cacheable_loops():
    """An @njit(cache=True) objective with args == () and float64 x runs through the
    first-class-function loops (fixed signature, disk-cacheable); the values equal the
    Python path's exactly; a float32-returning one falls back to the closures."""
    from curvopt.differentiate import hessian
    x = np.array([0.3, -1.2, 2.0])
    r = hessian(cached_quartic, x)
    py = hessian(cached_quartic.py_func if JIT else cached_quartic, x)
    assert np.array_equal(r.ddf, py.ddf) and r.nfev == py.nfev
    obj = Objective(cached_quartic, x)
    if JIT:
        assert "make_fc_kernels" in obj.kernels["f_many"].__qualname__
        assert "make_fc_kernels" not in Objective(sq_jit, x, (x,)).kernels["f_many"].__qualname__
    o32 = Objective(cached_f32, x)
    X = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    assert np.array_equal(o32.f_many(X), [14.0, 1.0]) and o32.nfev == 2


def test_cacheable_loops_give_way_to_closures_after_many_calls(monkeypatch):
    """Ski rental: after FC_CALLS kernel calls the per-objective closures take over, with
    the same values."""
    from curvopt import _stencils
    from curvopt.objective import _KERNELS
    monkeypatch.setattr(_stencils, "FC_CALLS", 2)
    _KERNELS.clear()
    obj = Objective(cached_quartic, np.zeros(3))
    X = np.random.default_rng(3).standard_normal((4, 3))
    vals = [obj.f_many(X) for _ in range(4)]
    assert all(np.array_equal(v, vals[0]) for v in vals) and obj.nfev == 16
    py = getattr(cached_quartic, "py_func", cached_quartic)
    assert np.allclose(vals[0], [py(r) for r in X], rtol=1e-14, atol=0)
    _KERNELS.clear()


def test_fused_stencil_through_the_cacheable_loops_and_after_the_switch(monkeypatch):
    """The one-call stencil of local_model(errors=False): the fc loops (before FC_CALLS)
    and the closures (after) give the Python path's H, g and nfev exactly."""
    from curvopt import _stencils
    from curvopt.model import local_model
    from curvopt.objective import _KERNELS
    monkeypatch.setattr(_stencils, "FC_CALLS", 2)
    _KERNELS.clear()
    x = np.array([0.3, -1.2, 2.0])
    py = getattr(cached_quartic, "py_func", cached_quartic)
    ref = local_model(Objective(py, x), x, errors=False)
    obj = Objective(cached_quartic, x)
    for _ in range(4):
        m = local_model(obj, x, errors=False)
        assert np.array_equal(m.H, ref.H) and np.array_equal(m.g, ref.g)
        assert m.nfev == ref.nfev == 2 * 9 + 1
    assert obj.nfev == 4 * ref.nfev
    _KERNELS.clear()
