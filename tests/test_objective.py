"""Tests of curvopt.objective and curvopt.evaluation: validation, one evaluation interface
on three backends, counting, budget, best point, copies of x, errors that name their cause."""
import numpy as np
import pytest
from numba import config, njit

from curvopt.evaluation import Changes, PairBatch
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


def sq_vec(X, c):
    return np.sum((X - c[:, None]) ** 2, axis=0)


def test_x0_validation():
    assert validate_x0([1, 2]).dtype == np.float64
    assert validate_x0(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert validate_x0(2.0).shape == (1,)
    for bad, word in ((np.ones((2, 2)), "1-D"), ([1j, 2], "real"), (np.array([None]), "real"),
                      ([np.nan, 1.0], "finite"), ([], "at least one")):
        with pytest.raises(ValueError, match=word):
            validate_x0(bad)


def _objectives(c):
    return [Objective(sq_py, np.zeros(3), (c,)),
            Objective(sq_vec, np.zeros(3), (c,), vectorized=True),
            Objective(sq_jit, np.zeros(3), (c,))]


def test_three_backends_agree_on_points_and_changes():
    c = np.array([0.5, -1.0, 2.0])
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 3))
    x = rng.standard_normal(3)
    ch = Changes(x, np.array([0, 1, 2, 0]), np.array([1.0, 2.0, 3.0, -1.0]),
                 np.array([-1, 2, -1, 1]), np.array([0.0, 5.0, 0.0, 4.0]))
    ref_pts = np.array([sq_py(r, c) for r in X])
    ref_ch = np.array([sq_py(ch.point(k), c) for k in range(len(ch))])
    names = []
    for o in _objectives(c):
        assert np.array_equal(o.values(X), ref_pts)
        assert np.array_equal(o.values(ch), ref_ch)
        assert o.nfev == 7 + 4
        names.append(o.backend.name)
    assert names == ["python", "vectorized", "jit" if JIT else "python"]


def _pair_batches(x):
    """A Hessian-like PairBatch (axis at +-2, corners at +-1), an axis-only one and a
    forward one (no minus points)."""
    n = x.shape[0]
    I, J = (a.astype(np.int64) for a in np.triu_indices(n, 1))
    none = np.empty(0, np.int64)
    return [PairBatch(x, x + 2.0, x - 2.0, x + 1.0, x - 1.0, I, J),
            PairBatch(x, x + 1.0, x - 1.0, x[:0], x[:0], none, none),
            PairBatch(x, x + 1.0, x[:0], x[:0], x[:0], none, none)]


def test_pair_batch_layout_is_its_changes_and_every_backend_agrees():
    """A PairBatch is its documented points in order: axis +, axis -, then the corners
    (+,+), (+,-), (-,+), (-,-) of each pair; the compiled loop that expands it as it goes,
    the Python loop and the vectorized call give the values of those points, exactly."""
    c = np.array([0.5, -1.0, 2.0])
    x = np.array([0.25, -0.5, 1.5])
    for pb in _pair_batches(x):
        pts = [pb.changes().point(k) for k in range(len(pb))]
        want = []                                      # the docstring's layout, by hand
        for moved in (pb.up, pb.um):
            for i in range(len(moved)):
                want.append(x.copy())
                want[-1][i] = moved[i]
        for i, j in zip(pb.I, pb.J):
            for a, b in ((pb.xp, pb.xp), (pb.xp, pb.xm), (pb.xm, pb.xp), (pb.xm, pb.xm)):
                want.append(x.copy())
                want[-1][i], want[-1][j] = a[i], b[j]
        assert len(pts) == len(want) == len(pb)
        assert np.array_equal(np.array(pts), np.array(want))
        ref = np.array([sq_py(p, c) for p in pts])
        for o in _objectives(c):
            assert np.array_equal(o.values(pb), ref)
            assert o.nfev == len(pb)
        assert np.array_equal(x, [0.25, -0.5, 1.5])    # the base point is untouched


def test_changes_rows_materialize_the_points():
    x = np.arange(4.0)
    ch = Changes(x, np.array([3, 0]), np.array([9.0, 7.0]), np.array([-1, 2]),
                 np.array([0.0, 8.0]))
    assert np.array_equal(ch.rows(0, 2), [[0, 1, 2, 9], [7, 1, 8, 3]])
    C = ch.columns(0, 2)                               # what a vectorized fun receives
    assert C.flags.c_contiguous and np.array_equal(C, [[0, 7], [1, 1], [2, 8], [9, 3]])
    assert np.array_equal(ch.columns(1, 2), [[7], [1], [8], [3]])
    assert np.array_equal(x, np.arange(4.0))          # the base point is untouched


def test_vectorized_fun_receives_contiguous_columns_of_changes_and_points():
    seen = []

    def f(X):
        seen.append((X.shape, X.flags.c_contiguous))
        return np.sum(X * X, axis=0)
    o = Objective(f, np.arange(3.0), vectorized=True)
    ch = Changes(o.x0, np.array([0, 1]), np.array([5.0, 6.0]), np.array([2, -1]),
                 np.array([7.0, 0.0]))
    assert np.array_equal(o.values(ch), [25 + 1 + 49, 0 + 36 + 4])
    assert np.array_equal(o.values(np.array([[1.0, 2.0, 3.0]])), [14.0])
    assert seen == [((3, 2), True), ((3, 1), True)]


def test_scipy_style_memoized_jit_objective_is_compiled():
    """A wrapper exposing ``fun`` and ``derivative`` (scipy's jac=True convention) is
    looked through: the jitted f inside runs in the compiled loops."""
    class Memo:
        def __init__(self, fun):
            self.fun = fun

        def __call__(self, x, *a):
            return self.fun(x, *a)[0]

        def derivative(self, x, *a):
            return self.fun(x, *a)[1]

    c = np.array([1.0, 2.0])
    m = Memo(sq_fg_jit)
    obj = Objective(m, np.zeros(2), (c,), jac=m.derivative)
    assert obj.backend.name == ("jit" if JIT else "python")
    assert np.allclose(obj.values(np.array([[0.0, 0.0], [1.0, 1.0]])), [5.0, 1.0])
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
        obj.values(np.ones((2, 2)))     # would need 6: none is evaluated
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

    def stop(x):
        raise StopIteration("f ran out")

    with pytest.raises(StopIteration, match="ran out"):
        Objective(stop, [1.0]).f([1.0])


def test_python_objective_receives_a_copy_of_x():
    seen = []

    def f(x):
        x -= 1.0                      # modifies its argument in place
        seen.append(x.copy())
        return float(x @ x)

    obj = Objective(f, [2.0, 3.0])
    x = obj.x0.copy()
    assert obj.f(x) == 5.0 and np.array_equal(x, [2.0, 3.0])
    vals = obj.values(np.array([[2.0, 3.0], [2.0, 3.0]]))
    assert np.array_equal(vals, [5.0, 5.0])           # every point intact


def test_outputs_and_derivatives_name_their_cause():
    with pytest.raises(ValueError, match=r"fun returned None"):
        Objective(lambda x: None, [1.0, 2.0]).f([1.0, 2.0])
    with pytest.raises(ValueError, match=r"scalar.*shape \(2,\)"):
        Objective(lambda x: x, [1.0, 2.0]).f([1.0, 2.0])
    with pytest.raises(ValueError, match="real"):
        Objective(lambda x: 1j, [1.0]).f([1.0])
    assert Objective(lambda x: np.array([[x @ x]]), [1.0, 2.0]).f([1.0, 2.0]) == 5.0
    o = Objective(sq_py, [1.0, 2.0], (np.zeros(2),), jac=lambda x, c: np.ones(3),
                  hess=lambda x, c: np.eye(3))
    with pytest.raises(ValueError, match=r"jac \(the gradient\) returned shape \(3,\) for x "
                                         r"of length 2; expected \(2,\)"):
        o.grad([1.0, 2.0])
    with pytest.raises(ValueError, match=r"hess returned shape \(3, 3\).*expected \(2, 2\)"):
        o.hess([1.0, 2.0])
    pair = Objective(lambda x: (1.0, np.ones(3)), [1.0, 2.0], jac=True)
    pair.f([1.0, 2.0])
    with pytest.raises(ValueError, match=r"jac \(the gradient\) returned shape \(3,\)"):
        pair.grad([1.0, 2.0])
    with pytest.raises(ValueError, match="pair"):
        Objective(lambda x: 1.0, [1.0], jac=True).f([1.0])


def test_bad_arguments():
    with pytest.raises(TypeError):
        Objective(3.0, [1.0])
    with pytest.raises(TypeError, match="jac"):
        Objective(sq_py, [1.0], jac="2-point")
    with pytest.raises(ValueError, match="maxfev"):
        Objective(sq_py, [1.0], maxfev=0)
    with pytest.raises(ValueError, match="shape"):
        Objective(sq_py, [1.0, 2.0], (np.zeros(2),)).f([1.0])


def test_precision_is_fixed_by_the_first_evaluation():
    o = Objective(lambda x: np.float32(x @ x), np.ones(2))
    assert o.f_eps == np.finfo(np.float64).eps
    o.f(np.ones(2))
    assert o.f_eps == np.finfo(np.float32).eps
    o32 = Objective(lambda x: float(x @ x), np.ones(2, dtype=np.float32))
    assert o32.f_eps == np.finfo(np.float32).eps


@njit
def size1_jit(x):
    return np.array([np.sum(x * x)])


def test_jit_function_returning_an_array_falls_back_to_the_python_loop_once():
    obj = Objective(size1_jit, np.ones(2))
    assert np.allclose(obj.values(np.eye(2)), [1.0, 1.0])
    assert obj.nfev == 2
    if JIT:
        assert obj.backend.name.startswith("python (numba could not compile")
