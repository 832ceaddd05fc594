"""The README's main job: scipy's methods stop at the saddle, curvopt escapes."""
import numpy as np

from curvopt import demo


def test_demo_scipy_stops_at_saddle_curvopt_certifies_minimum(capsys):
    out = demo.main()
    for method, _ in demo.SCIPY_RUNS:
        success, verdict = out[method]
        assert success and verdict == "saddle", method
    assert out["curvopt"] == (True, "minimum")
    np.testing.assert_allclose(np.abs(out["x"]), [0.0, np.sqrt(2.0)], atol=1e-6)
    printed = capsys.readouterr().out
    assert "curvopt certificate: MINIMUM" in printed
