"""scipy's custom-method contract (DESIGN.md sec. 2) for curvopt's minimize.

Every test goes through ``scipy.optimize.minimize(..., method=minimize)`` unless it tests
the direct call. Reference minimizers are analytic (Rosenbrock: x* = 1).
"""
import pickle
import warnings

import numpy as np
import pytest
from scipy.optimize import OptimizeResult, OptimizeWarning, basinhopping, rosen, rosen_der
from scipy.optimize import minimize as sp_minimize

from curvopt.api import minimize

X0 = np.array([-1.2, 1.0])


def rosen_and_grad(x):
    return rosen(x), rosen_der(x)


def test_result_fields_through_scipy():
    res = sp_minimize(rosen, X0, method=minimize)
    assert isinstance(res, OptimizeResult)
    for key in ("x", "fun", "jac", "hess", "nit", "nfev", "njev", "nhev", "status",
                "success", "message", "certificate"):
        assert key in res
    assert res.success and res.status == 0
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)
    assert res.fun == pytest.approx(rosen(res.x))
    assert res.hess.shape == (2, 2) and res.jac.shape == (2,)
    assert res.njev == 0 and res.nhev == 0 and res.nfev > 0


def test_jac_true_memoizejac():
    res = sp_minimize(rosen_and_grad, X0, jac=True, method=minimize)
    assert res.success and res.njev > 0
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)


def test_tol_sets_the_absolute_gradient_tolerance():
    res = sp_minimize(rosen, X0, method=minimize, tol=1e-3)
    assert res.success and res.certificate.gtol == 1e-3
    assert res.certificate.stationarity in ("gtol", "gain", "location")
    assert sp_minimize(rosen, X0, method=minimize).certificate.gtol is None


def test_callback_plain_gets_copy_of_x():
    seen = []
    res = sp_minimize(rosen, X0, method=minimize, callback=lambda xk: seen.append(xk))
    assert len(seen) >= 1 and all(isinstance(v, np.ndarray) and v.shape == (2,) for v in seen)
    assert seen[-1] is not res.x


def test_callback_intermediate_result():
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result)
    sp_minimize(rosen, X0, method=minimize, callback=cb)
    assert all(isinstance(r, OptimizeResult) for r in seen)
    assert seen[-1].fun == pytest.approx(rosen(seen[-1].x))


def test_callback_stop_iteration():
    def cb(xk):
        raise StopIteration
    res = sp_minimize(rosen, X0, method=minimize, callback=cb)
    assert not res.success and res.status == 99
    assert res.message == "`callback` raised `StopIteration`."
    assert res.nit == 1


def test_unknown_option_warns():
    with pytest.warns(OptimizeWarning, match="not_an_option"):
        sp_minimize(rosen, X0, method=minimize, options={"not_an_option": 1})


def test_known_options_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", OptimizeWarning)
        sp_minimize(rosen, X0, method=minimize, options=dict(
            gtol=1e-5, maxiter=500, disp=False, initial_trust_radius=0.5,
            max_trust_radius=100.0, eta=0.1, return_all=True, maxfev=10_000, ctol=0.0,
            hessian_update="sr1", fd_step=None, vectorized=False, maxtime=100.0,
            stall=1000, history=True, names=["a", "b"], noise=True, trust_scaling="none"))


def test_unknown_option_warning_points_at_the_callers_line():
    with pytest.warns(OptimizeWarning) as rec:
        minimize(rosen, X0, maxiter=2, not_an_option=1)
    assert rec[0].filename == __file__
    with pytest.warns(OptimizeWarning) as rec:
        sp_minimize(rosen, X0, method=minimize, options={"maxiter": 2, "nope": 1})
    assert rec[0].filename == __file__


@pytest.mark.parametrize("kw, msg", [
    (dict(fd_step=[1e-3, 1e-3, 1e-3]), r"fd_step must be a scalar or have length 2"),
    (dict(fd_step=0.0), r"fd_step must be positive and finite; got 0.0"),
    (dict(gtol=np.inf), r"gtol must be a positive finite number; got inf"),
    (dict(maxfev=2.5), r"maxfev must be a positive integer; got 2.5"),
    (dict(maxiter=-1), r"maxiter must be an integer >= 0; got -1"),
    (dict(eta=0.5), r"eta must be in \[0, 1/4\); got 0.5"),
    (dict(noise=-1.0), r"noise must be True, False or a finite number >= 0"),
    (dict(hessian_update="bfgs"), r"hessian_update must be one of 'sr1', 'fd'; got 'bfgs'"),
])
def test_bad_options_are_named_before_any_evaluation(kw, msg):
    calls = []
    with pytest.raises(ValueError, match=msg):
        minimize(lambda x: calls.append(1) or float(x @ x), X0, **kw)
    assert calls == []


def test_derivatives_of_the_wrong_shape_are_named():
    with pytest.raises(ValueError, match=r"jac \(the gradient\) returned shape \(3,\)"):
        minimize(rosen, X0, jac=lambda x: np.ones(3))
    with pytest.raises(ValueError, match=r"jac \(the gradient\) returned shape \(3,\)"):
        minimize(lambda x: (rosen(x), np.ones(3)), X0, jac=True)
    with pytest.raises(ValueError, match=r"hess returned shape \(3, 3\)"):
        minimize(rosen, X0, jac=lambda x: np.zeros(2), hess=lambda x: np.eye(3))
    with pytest.raises(ValueError, match=r"fun returned None"):
        minimize(lambda x: None, X0)


def test_stop_iteration_from_fun_is_an_error_not_status_99():
    def f(x):
        raise StopIteration("my generator ran out")
    with pytest.raises(StopIteration, match="ran out"):
        minimize(f, X0)


def test_objective_modifying_x_in_place_does_not_corrupt_the_iterate():
    def f(x):
        x -= 1.0
        return float(x @ x)
    res = minimize(f, np.array([3.0, -2.0]))
    assert res.success
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)


def test_bad_trust_scaling_rejected():
    with pytest.raises(ValueError, match="trust_scaling"):
        minimize(rosen, X0, trust_scaling="diag")


@pytest.mark.parametrize("kw", [dict(bounds=[(0, 2), (0, 2)]),
                                dict(constraints={"type": "ineq", "fun": lambda x: x[0]})])
def test_bounds_and_constraints_rejected(kw):
    with pytest.raises(ValueError, match="unconstrained.*exp"):
        sp_minimize(rosen, X0, method=minimize, **kw)


def test_disp_prints_iteration_log(capsys):
    sp_minimize(rosen, X0, method=minimize, options={"disp": True})
    out = capsys.readouterr().out
    for word in ("iter", "norm(g)", "lam_min", "radius", "step", "Certified"):
        assert word in out


def test_return_all_and_history():
    res = sp_minimize(rosen, X0, method=minimize, options={"return_all": True, "history": True})
    assert len(res.allvecs) == len(res.history) == res.nit + 1
    np.testing.assert_array_equal(res.allvecs[0], X0)
    assert res.history[-1].classification == "minimum"


def test_x0_ints_zero_d_and_float32():
    res = sp_minimize(lambda x: (x[0] - 3.0) ** 2, 0, method=minimize)   # 0-d int
    assert res.x.shape == (1,) and res.x.dtype == np.float64
    assert res.x[0] == pytest.approx(3.0, abs=1e-6)
    direct = minimize(lambda x: (x[0] - 3.0) ** 2, 0)
    assert direct.x.shape == (1,) and direct.success
    res32 = sp_minimize(lambda x: np.float32(rosen(x)), X0.astype(np.float32), method=minimize)
    assert res32.x.dtype == np.float32
    assert np.all(np.abs(res32.x - 1.0) < 1e-2)
    with pytest.raises(ValueError):
        minimize(rosen, np.ones((2, 2)))


def test_plain_function_is_picklable_and_basinhopping_works():
    assert pickle.loads(pickle.dumps(minimize)) is minimize
    res = basinhopping(lambda x: (x[0] ** 2 - 1.0) ** 2 + x[1] ** 2, np.array([0.3, 0.4]),
                       niter=3, minimizer_kwargs={"method": minimize}, seed=1)
    assert res.fun == pytest.approx(0.0, abs=1e-10)
    assert abs(res.x[0]) == pytest.approx(1.0, abs=1e-6)


def test_exact_hessian_through_scipy():
    from scipy.optimize import rosen_hess
    res = sp_minimize(rosen, X0, jac=rosen_der, hess=rosen_hess, method=minimize)
    assert res.success and res.nhev > 0
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-7)


def test_fd_strings_mean_no_derivative():
    res = minimize(rosen, X0, jac="2-point", hess="3-point")
    assert res.success and res.njev == 0 and res.nhev == 0


def test_module_and_plain_function_as_method():
    import curvopt
    a = sp_minimize(rosen, X0, method=curvopt)
    b = sp_minimize(rosen, X0, method=curvopt.minimize)
    assert a.success and b.success and a.nfev == b.nfev
    np.testing.assert_array_equal(a.x, b.x)
    res = basinhopping(lambda x: (x[0] ** 2 - 1.0) ** 2 + x[1] ** 2, np.array([0.3, 0.4]),
                       niter=2, minimizer_kwargs={"method": curvopt}, seed=2)
    assert res.fun == pytest.approx(0.0, abs=1e-10)


def test_names_option_reaches_the_certificate():
    f = lambda x: (x[0] - 1.0) ** 2 + 0.0 * x[1]      # x[1] ("slope") is flat
    res = sp_minimize(f, np.zeros(2), method=minimize, options={"names": ["level", "slope"]})
    assert res.certificate.flat_parameters == ("slope",)
    assert "slope" in str(res.certificate)


@pytest.mark.parametrize("names, exc", [(["a"], ValueError), ("ab", TypeError),
                                        ([1, 2], TypeError)])
def test_bad_names_rejected_before_evaluating(names, exc):
    calls = []
    with pytest.raises(exc):
        minimize(lambda x: calls.append(1) or x @ x, np.zeros(2), names=names)
    assert calls == []
