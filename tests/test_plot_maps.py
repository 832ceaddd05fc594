"""The loss map and the spectrum figure show what they claim (curvopt.plot).

Fitted axes contain every iterate, the legend lists only classes drawn inside the window,
a log surface has contour lines, a far-travelling run can use an asinh axis, and a common
eigenvalue bound is drawn as a band.
"""
from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg", force=True)

from curvopt.plot import CLASS_STYLE, plot_spectrum, plot_trajectory  # noqa: E402


def f(z):
    return z[0] ** 2 - z[1] ** 2 + z[1] ** 4 / 4


RUN = (np.array([[1.5, 0.1], [0.5, 0.5], [0.0, 1.4]]), ["indefinite", "convex", "minimum"])
FAR = (np.array([[-1.0, 0.5], [0.2, 30.0], [0.0, 1.4]]), ["concave", "flat", "minimum"])


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_fitted_axes_contain_every_iterate_and_little_else():
    import matplotlib.pyplot as plt
    ax = plot_trajectory(f, None, None, {"A": RUN}, resolution=12)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    X = RUN[0]
    assert x0 < X[:, 0].min() and X[:, 0].max() < x1
    assert y0 < X[:, 1].min() and X[:, 1].max() < y1
    assert (x1 - x0) < 1.3 * np.ptp(X[:, 0]) and (y1 - y0) < 1.3 * np.ptp(X[:, 1])
    plt.close(ax.figure)


def test_legend_lists_only_classes_inside_the_window():
    import matplotlib.pyplot as plt
    ax = plot_trajectory(f, (-2, 2), (-2, 2), {"A": RUN, "B": FAR}, resolution=12)
    labels = _legend(ax)
    assert labels[:2] == ["A", "B"]
    assert CLASS_STYLE["concave"][1] in labels          # (-1, 0.5) is inside
    assert CLASS_STYLE["flat"][1] not in labels         # (0.2, 30) is not drawn
    plt.close(ax.figure)


def test_log_surface_has_labelled_contours_and_asinh_axis():
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    ax = plot_trajectory(f, None, None, {"far": FAR}, resolution=24, log_surface=True,
                         yscale="asinh", linear_width=2.0)
    assert ax.get_yscale() == "asinh"
    assert ax.get_ylim()[1] > 30                      # the far iterate is on the map
    assert isinstance(ax.collections[0].norm, LogNorm)
    assert any(type(c).__name__ == "QuadContourSet" for c in ax.collections)
    assert ax.texts, "contour labels"
    assert CLASS_STYLE["flat"][1] in _legend(ax)
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="scale"):
        plot_trajectory(f, None, None, {"A": RUN}, resolution=4, xscale="log")


def test_spectrum_band_for_a_common_bound_on_many_eigenvalues():
    import matplotlib.pyplot as plt
    lam = np.linspace(-1e-4, 1.0, 60)
    ax = plot_spectrum(lam, 1e-3)
    spans = [p.get_patch_transform().transform(p.get_path().vertices)[:, 1] for p in ax.patches]
    assert any(np.allclose([y.min(), y.max()], [-1e-3, 1e-3]) for y in spans)  # the band
    assert "lam_err = 0.001" in " ".join(t.get_text() for t in ax.texts)
    plt.close(ax.figure)
