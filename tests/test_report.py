"""The text report lists the standard error of every parameter (curvopt/report.py).

Certificates are certified from LocalModel records built directly (a diagonal, certified
positive definite H at a stationary point), so each standard error is known exactly:
sqrt(1 / H_ii).
"""
import re

import numpy as np

from curvopt.certificate import certify
from curvopt.model import LocalModel
from curvopt.report import MAX_PARAMS, WIDTH, format_report


def _certificate(n, names=None):
    lam = np.linspace(1.0, 4.0, n)
    model = LocalModel(x=np.ones(n), f=1.0, g=np.zeros(n), H=np.diag(lam),
                       g_err=np.full(n, 1e-12), H_err=np.full((n, n), 1e-10),
                       exact_hessian=False, nfev=1, f_noise=1e-14, step=np.full(n, 1e-4))
    c = certify(model, names=names)
    assert c.classification == "minimum" and c.standard_errors is not None
    return c


def _listed(text):
    """{name: value} of every name=value item in the standard-error lines of a report."""
    lines = text.splitlines()
    start = next(k for k, s in enumerate(lines) if "standard errors" in s)
    block = [lines[start].split(":", 1)[1]]
    for s in lines[start + 1:]:
        if not s.startswith("    "):
            break
        block.append(s)
    return dict(re.findall(r"([\w\[\]]+)=([-+0-9.e]+)", " ".join(block)))


def test_every_standard_error_is_listed_beyond_ten_parameters():
    # examples/glm_negbin.py: ten coefficients and log_alpha, the 11th parameter
    names = [f"b{i}" for i in range(10)] + ["log_alpha"]
    c = _certificate(11, names)
    listed = _listed(str(c))
    assert list(listed) == names
    assert np.allclose([float(v) for v in listed.values()], c.standard_errors, rtol=1e-3)
    assert "more" not in str(c) and " ..." not in str(c)


def test_up_to_max_params_all_are_listed_on_wrapped_lines():
    c = _certificate(MAX_PARAMS)
    text = str(c)
    assert list(_listed(text)) == [f"x[{i}]" for i in range(MAX_PARAMS)]
    block = text.split("standard errors")[1].splitlines()
    assert len(block) > 1 and all(len(s) <= WIDTH for s in block[1:])


def test_very_large_n_shows_head_and_tail_and_how_many_are_left_out():
    n = 3 * MAX_PARAMS
    c = _certificate(n)
    text = str(c)
    k = MAX_PARAMS // 2
    shown = list(_listed(text))
    assert shown[:k] == [f"x[{i}]" for i in range(k)]
    assert shown[-k:] == [f"x[{i}]" for i in range(n - k, n)]
    assert f"... {n - 2 * k} more ..." in text
    assert "certificate.standard_errors" in text
    assert all(len(s) <= WIDTH for s in text.split("standard errors")[1].splitlines()[1:])
    full = format_report(c, max_params=None)
    assert list(_listed(full)) == [f"x[{i}]" for i in range(n)]
    assert "more ..." not in full.split("standard errors")[1]
