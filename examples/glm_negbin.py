"""Negative binomial (NB2, log link) regression on statsmodels' RAND health data, by curvopt.

RAND Health Insurance Experiment (Deb & Trivedi 2002, as shipped by statsmodels): the
number of outpatient doctor visits ``mdvis`` on log coinsurance, deductible, income,
physical limitation, chronic disease count and self-rated health. Over-dispersed counts:
the NB2 variance is mu + alpha mu**2 (Cameron & Trivedi 2013, sec. 3.3). The parameters are
beta and log(alpha), so the problem is unconstrained; alpha and its standard error are
reported on the natural scale (delta method, exact at the optimum). The analytic gradient
(``_glm.negbin_grad``, digamma differences as finite sums) is passed, the Hessian is
curvopt's finite differences of it. statsmodels' ``NegativeBinomial`` Newton fit is
printed beside. ``--quick`` uses the first 2000 rows.

Run: ``python examples/glm_negbin.py``.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from _common import curvopt_method, parse_args
from _glm import fit_glm, negbin_grad, negbin_nll
from glm_logistic import glm_options, report

QUICK_ROWS = 2000


def load_randhie(quick):
    """Design matrix (covariates + const), response mdvis, zero offset, names."""
    from statsmodels.datasets import randhie
    data = randhie.load_pandas()
    rows = QUICK_ROWS if quick else len(data.endog)
    X = np.column_stack([data.exog.to_numpy(float), np.ones(len(data.endog))])[:rows]
    y = data.endog.to_numpy(float)[:rows]
    return X, y, np.zeros(rows), tuple(data.exog.columns) + ("const",)


def statsmodels_reference(X, y):
    """statsmodels' NegativeBinomial (NB2, Newton): params and bse (alpha last)."""
    try:
        import statsmodels.api as sm
    except ImportError:
        return None
    res = sm.NegativeBinomial(y, X).fit(disp=0, method="newton", maxiter=100)
    return np.asarray(res.params), np.asarray(res.bse)


def to_alpha(fit):
    """Report exp(log_alpha) and its delta-method standard error alpha * se(log_alpha)."""
    params, se = fit.params.copy(), fit.se.copy()
    params[-1] = np.exp(params[-1])
    se[-1] = params[-1] * se[-1]
    return replace(fit, params=params, se=se, z=params / se,
                   names=fit.names[:-1] + ("alpha",))


def main(argv=None):
    """Fit, print the table and the certificate; return the outcomes for the tests."""
    args = parse_args(argv, __doc__.splitlines()[0])
    X, y, offset, names = load_randhie(args.quick)
    x0 = np.zeros(X.shape[1] + 1)
    x0[-2] = np.log(np.mean(y))  # intercept at the mean count, alpha = 1
    fit = fit_glm(negbin_nll, x0, (X, y, offset), names + ("log_alpha",), curvopt_method(),
                  jac=negbin_grad, options=glm_options(True))
    title = f"NB2: mdvis ~ covariates (randhie, {len(y)} rows)"
    return report(title, to_alpha(fit), statsmodels_reference(X, y))


if __name__ == "__main__":
    main()
