"""Logistic regression on statsmodels' Spector & Mazzeo (1980) data, fitted by curvopt.

GRADE (improvement after a teaching method, 0/1) on GPA, TUCE (test score) and PSI
(taught with the new method), 32 students: the dataset of statsmodels' ``Logit`` examples.
The negative log-likelihood is a numba kernel (``_glm.logit_nll``); curvopt minimizes it
from function values alone through ``scipy.optimize.minimize(..., method=curvopt)`` and
certifies the optimum; standard errors are sqrt(diag(H^-1)) of the certified Hessian.
statsmodels' Newton fit is printed beside it when statsmodels is installed.

Run: ``python examples/glm_logistic.py`` (``--jac`` passes the analytic gradient).
"""
from __future__ import annotations

import numpy as np

from _common import banner, curvopt_method, parse_args
from _glm import fit_glm, logit_grad, logit_nll, max_rel_diff, print_table


def load_spector():
    """Design matrix (const, GPA, TUCE, PSI), response GRADE, zero offset, names."""
    from statsmodels.datasets import spector
    data = spector.load_pandas()
    X = np.column_stack([np.ones(len(data.endog)), data.exog.to_numpy(float)])
    y = data.endog.to_numpy(float)
    return X, y, np.zeros(len(y)), ("const",) + tuple(data.exog.columns)


def statsmodels_reference(X, y):
    """statsmodels' default (Newton) Logit fit: params and bse, or None without it."""
    try:
        import statsmodels.api as sm
    except ImportError:
        return None
    res = sm.Logit(y, X).fit(disp=0, method="newton", maxiter=100)
    return np.asarray(res.params), np.asarray(res.bse)


def main(argv=None):
    """Fit, print the table and the certificate; return the outcomes for the tests."""
    args = parse_args(argv, __doc__.splitlines()[0],
                      lambda p: p.add_argument("--jac", action="store_true",
                                               help="use the analytic gradient"))
    X, y, offset, names = load_spector()
    fit = fit_glm(logit_nll, np.zeros(X.shape[1]), (X, y, offset), names, curvopt_method(),
                  jac=logit_grad if args.jac else None, options=glm_options(args.jac))
    return report("Logit: GRADE ~ GPA + TUCE + PSI (Spector & Mazzeo 1980)", fit,
                  statsmodels_reference(X, y))


def glm_options(jac):
    """Solver options: none are needed; stationarity is decided by comparing what the
    model still allows to gain with the resolution of f (scale-free), with the exact
    gradient's rounding-level error or the finite differences' bound."""
    return {}


def report(title, fit, peer):
    """Print the coefficient table and certificate; collect the outcome dict."""
    banner(title)
    out = {"params": fit.params, "se": fit.se, "classification": fit.classification,
           "success": bool(fit.result.success), "nfev": int(fit.result.nfev)}
    if peer is None:
        print_table(fit)
    else:
        print_table(fit, *peer)
        out.update(sm_params=peer[0], sm_se=peer[1],
                   params_rel_diff=max_rel_diff(fit.params, peer[0]),
                   se_rel_diff=max_rel_diff(fit.se, peer[1]))
        print(f"max relative difference to statsmodels: estimates "
              f"{out['params_rel_diff']:.2e}, standard errors {out['se_rel_diff']:.2e}")
    print(f"function evaluations: {fit.result.nfev}, success: {fit.result.success}")
    print(fit.certificate)
    return out


if __name__ == "__main__":
    main()
