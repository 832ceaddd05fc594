"""Poisson regression with an exposure offset on statsmodels' star98 data, fitted by curvopt.

California schools, 1998 (303 districts): the count NABOVE of students scoring above the
national median, with exposure NABOVE + NBELOW (students tested), so the model is for the
rate, log E[NABOVE] = log(tested) + X beta. Covariates: percentages of low-income, Asian,
Black and Hispanic students, of charter schools and year-round schools, and the
pupil-teacher ratio. The negative log-likelihood is ``_glm.poisson_nll`` (numba); curvopt
minimizes it, certifies the optimum and reports standard errors from the certified Hessian
(finite differences of the gradient), beside statsmodels' ``Poisson(..., exposure=...)``
Newton fit.

The analytic gradient X'(mu - y) is passed (``jac``). The covariates are unscaled
percentages and the Hessian's condition number is ~1e6; ``--values-only`` fits from
function values alone (finite-difference gradient and Hessian) and prints the same table
and certificate, so the two can be compared (the test suite checks that this run, too,
ends on a certified minimum next to statsmodels' estimates).

Run: ``python examples/glm_poisson.py``.
"""
from __future__ import annotations

import numpy as np

from _common import curvopt_method, parse_args
from _glm import fit_glm, poisson_grad, poisson_nll
from glm_logistic import report

COVARIATES = ("LOWINC", "PERASIAN", "PERBLACK", "PERHISP", "PCTCHRT", "PCTYRRND", "PTRATIO")


def load_star98():
    """Design matrix (const + COVARIATES), response NABOVE, offset log(tested), names."""
    from statsmodels.datasets import star98
    data = star98.load_pandas().data
    X = np.column_stack([np.ones(len(data))] + [data[c].to_numpy(float) for c in COVARIATES])
    y = data["NABOVE"].to_numpy(float)
    exposure = (data["NABOVE"] + data["NBELOW"]).to_numpy(float)
    return X, y, np.log(exposure), ("const",) + COVARIATES


def statsmodels_reference(X, y, offset):
    """statsmodels' Poisson with exposure (Newton): params and bse, or None without it."""
    try:
        import statsmodels.api as sm
    except ImportError:
        return None
    res = sm.Poisson(y, X, exposure=np.exp(offset)).fit(disp=0, method="newton", maxiter=100)
    return np.asarray(res.params), np.asarray(res.bse)


def main(argv=None):
    """Fit, print the table and the certificate; return the outcomes for the tests."""
    args = parse_args(argv, __doc__.splitlines()[0],
                      lambda p: p.add_argument(
                          "--values-only", action="store_true",
                          help="function values only: no analytic gradient; the fit is "
                               "certified from finite differences"))
    X, y, offset, names = load_star98()
    jac = None if args.values_only else poisson_grad
    fit = fit_glm(poisson_nll, np.zeros(X.shape[1]), (X, y, offset), names, curvopt_method(),
                  jac=jac, options={"names": list(names)})
    return report("Poisson: NABOVE ~ covariates, exposure = students tested (star98)", fit,
                  statsmodels_reference(X, y, offset))


if __name__ == "__main__":
    main()
