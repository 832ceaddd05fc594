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

    A common bound (a certificate's ``lam_err``, or a scalar) is also drawn as a grey band
    +-lam_err around 0: an eigenvalue inside it has no certified sign. With more than 40
    eigenvalues and a common bound the band replaces the individual error bars.

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
              ("0 within error", np.abs(lam) <= err, "#525252"))
    common = bool(np.all(err == err[0])) and np.isfinite(err[0])
    bars = not common or lam.size <= 40  # a common bound on many eigenvalues: the band says it
    if common and err[0] > 0:
        ax.axhspan(-err[0], err[0], color="#d9d9d9", zorder=0, lw=0)
        ax.text(0.99, 0.02, f"grey band: |lam| <= lam_err = {err[0]:.2g}, sign not certified",
                transform=ax.transAxes, ha="right", va="bottom", fontsize="x-small",
                bbox={"fc": "white", "ec": "#bdbdbd", "alpha": 0.9, "pad": 2})
    for label, mask, colour in groups:
        if mask.any():
            ax.errorbar(k[mask], lam[mask], yerr=err[mask] if bars else None, fmt="o", ms=4,
                        color=colour, ecolor=colour, elinewidth=0.8, capsize=2,
                        label=f"{label} ({mask.sum()})")
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


def _scale_maps(scale, width):
    """(forward, inverse) of an axis scale: identity, or asinh(v / width) (matplotlib's
    "asinh" scale: linear within about +-width, logarithmic beyond)."""
    if scale == "linear":
        return (lambda v: np.asarray(v, dtype=float)), (lambda u: np.asarray(u, dtype=float))
    if scale == "asinh":
        return (lambda v: np.arcsinh(np.asarray(v, dtype=float) / width)), \
            (lambda u: width * np.sinh(np.asarray(u, dtype=float)))
    raise ValueError(f"scale must be 'linear' or 'asinh'; got {scale!r}")


def _fitted(lim, values, scale, width, margin=0.08):
    """``lim`` when given, else the range of ``values`` widened by ``margin`` of it on each
    side (in the scale's coordinate)."""
    if lim is not None:
        return float(lim[0]), float(lim[1])
    fwd, inv = _scale_maps(scale, width)
    u = fwd(values)
    lo, hi = float(np.min(u)), float(np.max(u))
    pad = margin * (hi - lo) if hi > lo else max(0.5, 0.1 * abs(lo))
    return float(inv(lo - pad)), float(inv(hi + pad))


def _surface(f, xlim, ylim, resolution, scales=("linear", "linear"), widths=(1.0, 1.0)):
    """Grid (uniform in each axis' scale) and f on it."""
    (fx, ix), (fy, iy) = _scale_maps(scales[0], widths[0]), _scale_maps(scales[1], widths[1])
    xs = ix(np.linspace(*fx(xlim), resolution))
    ys = iy(np.linspace(*fy(ylim), resolution))
    Z = np.array([[f(np.array([x, y])) for x in xs] for y in ys], dtype=float)
    return xs, ys, Z


def _inside(X, xlim, ylim):
    return (X[:, 0] >= xlim[0]) & (X[:, 0] <= xlim[1]) & (X[:, 1] >= ylim[0]) & \
        (X[:, 1] <= ylim[1])


def _log_levels(lo, hi, most=12):
    """Contour levels 1, 2, 5 x 10^k in (lo, hi), thinned to decades when too many."""
    k0, k1 = int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi)))
    for mantissas in ((1.0, 2.0, 5.0), (1.0, 3.0), (1.0,)):
        levels = [m * 10.0 ** k for k in range(k0, k1 + 1) for m in mantissas]
        levels = [v for v in levels if lo < v < hi]
        if len(levels) <= most:
            return levels
    step = int(np.ceil(len(levels) / most))
    return levels[::step]


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
                    log_surface=False, labels=("parameter 1", "parameter 2"), title=None,
                    cmap="cividis", contours=True, xscale="linear", yscale="linear",
                    linear_width=1.0):
    """Map of f(x1, x2) with trajectories, each iterate coloured by curvature class.

    Parameters
    ----------
    f : callable
        ``f(np.array([x1, x2])) -> float``.
    xlim, ylim : (float, float) or None
        Plotted ranges of the two parameters; None fits the range to the trajectories
        (every iterate, so starts and end points, with a margin of 8% on each side).
    trajectories : dict
        ``{label: history}``; a history is an ``OptimizeResult.history`` (records or a
        dict with ``x`` and ``classification``), or a tuple ``(X, classes)``. Class names
        are keys of ``CLASS_STYLE``; None (an iterate the solver did not certify) is drawn
        as "unclassified".
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    resolution : int
        Grid points per axis of the map.
    log_surface : bool
        Colour by f - min f on a logarithmic scale (min over the grid and the iterates),
        with contour lines at 1, 2, 5 x 10^k above the minimum: detail in flat valleys.
    labels : (str, str)
        Axis labels.
    title : str, optional
        Axes title.
    cmap : str
        A perceptually uniform matplotlib colormap ("cividis", "viridis", ...).
    contours : bool
        Draw labelled contour lines of f.
    xscale, yscale : {"linear", "asinh"}
        Axis scales; "asinh" is linear within about ``+-linear_width`` and logarithmic
        beyond, for a trajectory that travels far along one parameter.
    linear_width : float
        Width of the linear part of an "asinh" axis.

    Returns
    -------
    matplotlib Axes
        The legend lists each trajectory, then only the curvature classes of iterates
        inside the plotted window.
    """
    plt = _pyplot()
    from matplotlib import patheffects
    from matplotlib.colors import LogNorm, Normalize
    ax = _axes(ax, (7.5, 5.6))
    runs = {name: _points_and_classes(history) for name, history in trajectories.items()}
    every = np.vstack([X for X, _ in runs.values()]) if runs else np.zeros((1, 2))
    xlim = _fitted(xlim, every[:, 0], xscale, linear_width)
    ylim = _fitted(ylim, every[:, 1], yscale, linear_width)
    xs, ys, Z = _surface(f, xlim, ylim, resolution, (xscale, yscale),
                         (linear_width, linear_width))
    if log_surface:
        ends = [float(f(X[i])) for X, _ in runs.values() for i in (0, -1)]
        floor = float(np.nanmin(np.concatenate([Z.ravel(), ends])))
        D = Z - floor
        top = float(np.nanmax(D))
        low = max(float(np.nanmin(D[D > 0])) if np.any(D > 0) else top * 1e-6, top * 1e-6)
        norm, shown = LogNorm(vmin=low, vmax=top), np.maximum(D, low)
        bar_label = f"f - {floor:.6g}  (log scale; {floor:.6g} = least f on the map)"
        levels = _log_levels(low, top)
        fmt = {lev: f"{lev:g}" for lev in levels}
    else:
        norm, shown, bar_label = Normalize(np.nanmin(Z), np.nanmax(Z)), Z, "loss f"
        from matplotlib.ticker import MaxNLocator
        levels = list(MaxNLocator(10).tick_values(np.nanmin(Z), np.nanmax(Z))[1:-1])
        fmt = {lev: f"{lev:.4g}" for lev in levels}
    mesh = ax.pcolormesh(xs, ys, shown, cmap=cmap, norm=norm, shading="auto",
                         rasterized=True)
    plt.colorbar(mesh, ax=ax, label=bar_label)
    if contours and levels:
        light = [patheffects.Stroke(linewidth=1.9, foreground="white", alpha=0.6),
                 patheffects.Normal()]
        cs = ax.contour(xs, ys, shown, levels=levels, colors="#1a1a1a", linewidths=0.7)
        cs.set(path_effects=light)
        for text in ax.clabel(cs, fmt=fmt, fontsize="x-small", inline=True):
            text.set_path_effects([patheffects.withStroke(linewidth=2.0, foreground="white")])
    halo = [patheffects.Stroke(linewidth=2.6, foreground="black"), patheffects.Normal()]
    handles, seen, any_end = [], [], False
    for i, (name, (X, classes)) in enumerate(runs.items()):
        marker, ls = _MARKERS[i % len(_MARKERS)], _LINESTYLES[i % 4]
        ax.plot(X[:, 0], X[:, 1], ls, color="white", lw=1.2, path_effects=halo, zorder=2)
        colours = [CLASS_STYLE.get(c, CLASS_STYLE["inconclusive"])[0] for c in classes]
        ax.scatter(X[:, 0], X[:, 1], c=colours, s=24, marker=marker, edgecolors="black",
                   linewidths=0.5, zorder=3)
        ax.plot(*X[0], marker=marker, ms=11, mfc="white", mec="black", mew=1.2, zorder=4)
        ax.plot(*X[-1], marker="*", ms=17, mfc=colours[-1], mec="black", zorder=4)
        _mark_outside(ax, X[-1], xlim, ylim, name)
        handles.append(plt.Line2D([], [], color="white", ls=ls, lw=1.2, path_effects=halo,
                                  marker=marker, ms=8, mfc="white", mec="black",
                                  label=name))
        inside = _inside(X, xlim, ylim)
        seen += [c for c, keep in zip(classes, inside) if keep and c not in seen]
        any_end = any_end or bool(inside[-1])
    for c in (c for c in CLASS_STYLE if c in seen):
        colour, text = CLASS_STYLE[c]
        handles.append(plt.Line2D([], [], ls="none", marker="o", mfc=colour, mec="black",
                                  label=text))
    if any_end:
        handles.append(plt.Line2D([], [], ls="none", marker="*", ms=12, mfc="white",
                                  mec="black", label="end point (large open marker: start)"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2,
              fontsize="small", framealpha=0.9)
    from matplotlib.ticker import FormatStrFormatter
    for scale, set_scale, axis in ((xscale, ax.set_xscale, ax.xaxis),
                                   (yscale, ax.set_yscale, ax.yaxis)):
        if scale == "asinh":
            set_scale("asinh", linear_width=linear_width)
            axis.set_major_formatter(FormatStrFormatter("%g"))
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel(labels[0] + (" (asinh scale)" if xscale == "asinh" else ""))
    ax.set_ylabel(labels[1] + (" (asinh scale)" if yscale == "asinh" else ""))
    if title:
        ax.set_title(title)
    return ax
