"""curvopt inside statsmodels, and curvopt certifying statsmodels' answers.

1. statsmodels' likelihood models accept ``fit(method="minimize", min_method=...)`` and
   hand the scaled negative log-likelihood, its score and its Hessian to
   ``scipy.optimize.minimize(f, start, method=min_method, jac=score, hess=hessian,
   options={"disp": ..., "maxiter": ..., **extra fit kwargs})``
   (``statsmodels/base/optimizer.py``, ``_fit_minimize``). Passing ``min_method=curvopt``
   therefore needs nothing special: the Logit fit on the Spector & Mazzeo data equals
   statsmodels' default Newton fit.
2. ``curvopt.check`` certifies any fitted result from the log-likelihood alone: a good
   fit (Logit) is a certified minimum whose standard errors match statsmodels' ``bse``; the
   default fit of ``NegativeBinomial`` on the RAND data (BFGS, 35 iterations) ends with a
   ``ConvergenceWarning``, and the certificate says exactly what is wrong with its point.

Run: ``python examples/statsmodels_handoff.py``.
"""
from __future__ import annotations

import warnings

import numpy as np

from _common import banner, curvopt_method, parse_args
from _glm import max_rel_diff
from glm_logistic import load_spector
from glm_negbin import load_randhie


def logit_handoff():
    """Logit fitted by statsmodels with min_method=curvopt vs statsmodels' default fit."""
    import statsmodels.api as sm
    X, y, _, names = load_spector()
    model = sm.Logit(y, X)
    default = model.fit(disp=0)
    ours = model.fit(method="minimize", min_method=curvopt_method(), gtol=1e-8, disp=0)
    banner("statsmodels Logit.fit(method='minimize', min_method=curvopt)")
    print(f"{'parameter':>10} {'curvopt':>14} {'default fit':>14} {'bse curvopt':>12} "
          f"{'bse default':>12}")
    for i, name in enumerate(names):
        print(f"{name:>10} {ours.params[i]:14.8g} {default.params[i]:14.8g} "
              f"{ours.bse[i]:12.6g} {default.bse[i]:12.6g}")
    retvals = ours.mle_retvals
    print(f"converged: {retvals['converged']}, iterations: {retvals['iterations']}")
    return {"converged": bool(ours.mle_retvals["converged"]),
            "params_rel_diff": max_rel_diff(ours.params, default.params),
            "se_rel_diff": max_rel_diff(ours.bse, default.bse)}, model, default, names


def certify_result(model, result, names, title):
    """curvopt.check of a fitted statsmodels result, from the log-likelihood only."""
    from curvopt import check
    cert = check(lambda b: -model.loglike(b), np.asarray(result.params), names=names)
    banner(title)
    print(cert)
    return cert


def main(argv=None):
    """Hand-off and certification; return outcomes for the tests."""
    parse_args(argv, __doc__.splitlines()[0])
    import statsmodels.api as sm
    out, model, default, names = logit_handoff()
    cert = certify_result(model, default, names, "curvopt.check of statsmodels' Logit fit")
    out["logit_check"] = cert.classification
    out["logit_check_se_rel_diff"] = max_rel_diff(cert.standard_errors, default.bse)
    X, y, _, nb_names = load_randhie(quick=False)  # all 20190 rows even with --quick
    nb_model = sm.NegativeBinomial(y, X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nb_default = nb_model.fit(disp=0)
    warned = any("converge" in str(w.message).lower() for w in caught)
    print(f"\nstatsmodels NegativeBinomial default fit ({len(y)} rows): converged = "
          f"{nb_default.mle_retvals['converged']}, ConvergenceWarning: {warned}")
    nb_cert = certify_result(nb_model, nb_default, nb_names + ("alpha",),
                             "curvopt.check of statsmodels' default NegativeBinomial fit")
    out.update(nb_converged=bool(nb_default.mle_retvals["converged"]),
               nb_check=nb_cert.classification)
    return out


if __name__ == "__main__":
    main()
