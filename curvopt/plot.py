"""Figures for curvature diagnostics (matplotlib, the optional ``plot`` extra).

Two pictures answer the questions the certificate is about:

* ``plot_spectrum``: the eigenvalues lam_k of the symmetrized Hessian with their error
  bars (Weyl: |lam_k(H) - lam_k(H_fd)| <= ||E||_2, Golub & Van Loan 2013, cor. 8.1.6),
  coloured by what the evidence supports: certified positive, certified negative, or
  indistinguishable from zero at this precision;
* ``plot_trajectory``: a heat map of a two-parameter loss surface with optimizer
  trajectories on it, each iterate coloured by its curvature class (minimum / saddle /
  maximum / degenerate at stationary points; the definiteness of H elsewhere).

matplotlib is imported inside the functions, so ``import curvopt.plot`` works without it.
"""
from __future__ import annotations

import numpy as np

__all__ = ["CLASS_STYLE", "plot_spectrum", "plot_trajectory"]

#: colour and legend label of each curvature class (stationary classes in strong colours,
#: the curvature of non-stationary iterates in light versions of the same hue).
CLASS_STYLE = {
    "minimum": ("#1a9850", "minimum (certified)"),
    "saddle": ("#f46d43", "saddle (certified)"),
    "maximum": ("#d73027", "maximum (certified)"),
    "degenerate": ("#762a83", "degenerate (flat direction)"),
    "inconclusive": ("#000000", "inconclusive"),
    "convex": ("#a6dba0", "not stationary, H positive definite"),
    "indefinite": ("#fdae61", "not stationary, H indefinite"),
    "concave": ("#f4a6c6", "not stationary, H negative definite"),
    "flat": ("#c2a5cf", "not stationary, H singular within error"),
    "not_stationary": ("#bdbdbd", "not stationary"),
    "unclassified": ("#ffffff", "no certificate at this iterate"),
}
_MARKERS = ("o", "s", "^", "D", "v", "P")
_LINESTYLES = ("-", "--", ":", "-.")


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("curvopt.plot needs matplotlib: pip install 'curvopt[plot]'") from exc
    return plt


def _axes(ax, figsize):
    if ax is not None:
        return ax
    return _pyplot().subplots(figsize=figsize)[1]


def plot_spectrum(certificate_or_lam, lam_err=None, ax=None, title=None):
    """Eigenvalues with error bars, coloured by certified sign.

    Parameters
    ----------
    certificate_or_lam : Certificate or array_like
        A certificate (its ``lam`` and ``lam_err`` are used) or the eigenvalues.
    lam_err : float or array_like, optional
        Error bound of each eigenvalue (scalar: the same for all); required with an array.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    lam = getattr(certificate_or_lam, "lam", certificate_or_lam)
    if lam_err is None:
        lam_err = getattr(certificate_or_lam, "lam_err", None)
    if lam_err is None:
        raise TypeError("plot_spectrum needs lam_err when given bare eigenvalues")
    lam = np.sort(np.asarray(lam, dtype=float).ravel())
    err = np.broadcast_to(np.asarray(lam_err, dtype=float), lam.shape)
    ax = _axes(ax, (6.4, 4.2))
    k = np.arange(1, lam.size + 1)
    groups = (("certified > 0", lam - err > 0, "#1a9850"),
              ("certified < 0", lam + err < 0, "#d73027"),
              ("0 within error", np.abs(lam) <= err, "#7f7f7f"))
    for label, mask, colour in groups:
        if mask.any():
            ax.errorbar(k[mask], lam[mask], yerr=err[mask], fmt="o", ms=4, color=colour,
                        ecolor=colour, capsize=2, label=f"{label} ({mask.sum()})")
    ax.axhline(0.0, color="black", lw=0.8)
    _symlog_axis(ax, lam - err, lam + err, _linthresh(lam, err))
    ax.set_xlabel("eigenvalue index k (ascending)")
    ax.set_ylabel(r"$\lambda_k$ (symlog scale)")
    ax.legend(loc="upper left", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def _linthresh(lam, err):
    """Linear range of the symlog axis: the smallest nonzero |lam| (else the error, else 1)."""
    nonzero = np.abs(lam[lam != 0])
    if nonzero.size:
        return float(nonzero.min())
    return float(np.max(err)) if np.max(err) > 0 else 1.0


def _symlog_axis(ax, lo, hi, linthresh):
    """Symlog y-axis, limits a factor 3 beyond the data, <= ~6 decade ticks per side, and 0."""
    low, high = float(np.min(lo)), float(np.max(hi))
    low = 3.0 * low if low < -linthresh else -linthresh
    high = 3.0 * high if high > linthresh else linthresh
    e0 = int(np.floor(np.log10(linthresh))) + 1  # first decade clear of the linear part
    e1 = int(np.ceil(np.log10(max(abs(low), abs(high)))))
    step = max(1, int(np.ceil((e1 - e0 + 1) / 6)))
    decades = [10.0 ** e for e in range(e0, e1 + 1, step)]
    ticks = [0.0] + [d for d in decades if d <= high] + [-d for d in decades if -d >= low]
    ax.set_yscale("symlog", linthresh=linthresh, linscale=1.0)
    ax.set_yticks(sorted(ticks))
    ax.set_ylim(low, high)


def _points_and_classes(history):
    """(X of shape (m, 2), list of m class names) from the accepted history formats."""
    if isinstance(history, tuple) and len(history) == 2:
        X, classes = history
    elif isinstance(history, dict):
        X, classes = history["x"], history["classification"]
    elif hasattr(history, "x") and hasattr(history, "classification"):
        X, classes = history.x, history.classification
    else:
        X = [_field(rec, "x") for rec in history]
        classes = [_field(rec, "classification") for rec in history]
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"a trajectory must have points of 2 coordinates, got shape {X.shape}")
    classes = ["unclassified" if c is None else str(c) for c in classes]
    if len(classes) != X.shape[0]:
        raise ValueError(f"{X.shape[0]} points but {len(classes)} classifications")
    return X, classes


def _field(record, name):
    return record[name] if isinstance(record, dict) else getattr(record, name)


def _surface(f, xlim, ylim, resolution):
    xs = np.linspace(xlim[0], xlim[1], resolution)
    ys = np.linspace(ylim[0], ylim[1], resolution)
    Z = np.array([[f(np.array([x, y])) for x in xs] for y in ys], dtype=float)
    return xs, ys, Z


def _mark_outside(ax, x, xlim, ylim, name):
    """Write where a trajectory ends when its end point lies outside the plotted window."""
    if xlim[0] <= x[0] <= xlim[1] and ylim[0] <= x[1] <= ylim[1]:
        return
    cx, cy = np.clip(x[0], *xlim), np.clip(x[1], *ylim)
    ax.annotate(f"{name} ends off the map at ({x[0]:.3g}, {x[1]:.3g})", xy=(cx, cy),
                xytext=(0.5, 0.93), textcoords="axes fraction", ha="center", fontsize="small",
                bbox={"boxstyle": "round", "fc": "white", "alpha": 0.9},
                arrowprops={"arrowstyle": "->", "color": "black"})


def plot_trajectory(f, xlim, ylim, trajectories, ax=None, resolution=120,
                    log_surface=False, labels=("parameter 1", "parameter 2"), title=None):
    """Heat map of f(x1, x2) with trajectories, each iterate coloured by curvature class.

    Parameters
    ----------
    f : callable
        ``f(np.array([x1, x2])) -> float``.
    xlim, ylim : (float, float)
        Plotted ranges of the two parameters.
    trajectories : dict
        ``{label: history}``; a history is an ``OptimizeResult.history`` (records or a
        dict with ``x`` and ``classification``), or a tuple ``(X, classes)``. Class names
        are keys of ``CLASS_STYLE``; None (an iterate the solver did not certify) is drawn
        as "unclassified".
    ax : matplotlib Axes, optional
    resolution : int
        Grid points per axis of the heat map.
    log_surface : bool
        Colour by log10(f - min f + tiny) to show detail in flat valleys.
    labels : (str, str)
        Axis labels.
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    plt = _pyplot()
    ax = _axes(ax, (7.5, 5.6))
    xs, ys, Z = _surface(f, xlim, ylim, resolution)
    shown, bar_label = Z, "loss f"
    if log_surface:
        shown = np.log10(Z - np.nanmin(Z) + 1e-3 * (np.nanmax(Z) - np.nanmin(Z)) + 1e-300)
        bar_label = "log10(f - min f + offset)"
    from matplotlib.colors import LinearSegmentedColormap
    grey = LinearSegmentedColormap.from_list("curvopt_surface", ["#404040", "#f7f7f7"])
    mesh = ax.pcolormesh(xs, ys, shown, cmap=grey, shading="auto")  # grey: classes stand out
    plt.colorbar(mesh, ax=ax, label=bar_label)
    handles, seen = [], []
    for i, (name, history) in enumerate(trajectories.items()):
        X, classes = _points_and_classes(history)
        line, = ax.plot(X[:, 0], X[:, 1], _LINESTYLES[i % 4], color="black", lw=1.0,
                        marker=_MARKERS[i % len(_MARKERS)], ms=0, label=name)
        colours = [CLASS_STYLE.get(c, CLASS_STYLE["inconclusive"])[0] for c in classes]
        ax.scatter(X[:, 0], X[:, 1], c=colours, s=22, marker=_MARKERS[i % len(_MARKERS)],
                   edgecolors="black", linewidths=0.4, zorder=3)
        ax.plot(*X[0], marker=_MARKERS[i % len(_MARKERS)], ms=10, mfc="white", mec="black",
                zorder=4)
        ax.plot(*X[-1], marker="*", ms=16, mfc=colours[-1], mec="black", zorder=4)
        _mark_outside(ax, X[-1], xlim, ylim, name)
        handles.append(plt.Line2D([], [], color="black", ls=_LINESTYLES[i % 4],
                                  marker=_MARKERS[i % len(_MARKERS)], mfc="white", label=name))
        seen += [c for c in classes if c not in seen]
    for c in (c for c in CLASS_STYLE if c in seen):
        colour, text = CLASS_STYLE[c]
        handles.append(plt.Line2D([], [], ls="none", marker="o", mfc=colour, mec="black",
                                  label=text))
    handles.append(plt.Line2D([], [], ls="none", marker="*", ms=12, mfc="white", mec="black",
                              label="end point (large open marker: start)"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2,
              fontsize="small", framealpha=0.9)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if title:
        ax.set_title(title)
    return ax
