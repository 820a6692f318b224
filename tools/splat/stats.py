"""Statistics of a splat for ``splat info`` and for judging a reconstruction.

:func:`compute_stats` summarises; :func:`verdict` turns a summary into problems an agent
can act on ("nearly empty", "exploded", "transparent").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import numpy.typing as npt

from spacesmith.tools.splat.clean import (
    _sample,
    finite_mask,
    quantile,
    quantiles,
    row_max,
    sample_step,
)
from spacesmith.tools.splat.frame import extent_of, squared_distances
from spacesmith.tools.splat.model import Splat, alphas_of

HIST_BINS = 10
ROWS = 65536


@dataclass(frozen=True)
class SplatStats:
    """A summary of a splat; ``to_dict`` gives its JSON form."""

    count: int
    sh_degree: int
    nonfinite: int
    bounds_min: tuple[float, float, float]
    bounds_max: tuple[float, float, float]
    centre: tuple[float, float, float]
    radius_p98: float
    median_distance: float  # from the median centre
    far_fraction: float  # share of splats farther than 4x the median distance
    median_sigma: float  # median of each splat's largest axis
    median_alpha: float
    opaque_count: int  # alpha >= 0.1
    opacity_histogram: list[int] = field(default_factory=list)  # 10 bins of alpha over [0, 1]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    """Whether a reconstruction looks usable, and if not, why (one phrase a problem)."""

    ok: bool
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "problems": list(self.problems)}


def compute_stats(splat: Splat) -> SplatStats:
    """Summarise ``splat`` (non-finite splats are counted, then ignored)."""
    ok = finite_mask(splat)
    good = splat if ok.all() else splat.take(ok)
    return summarise(splat.count, splat.sh_degree, good.positions, good.opacities,
                     row_max(good.scales) if good.count else good.opacities)


def summarise(count: int, sh_degree: int, positions: npt.NDArray[np.float32],
              opacities: npt.NDArray[np.float32],
              max_log_scale: npt.NDArray[np.float32]) -> SplatStats:
    """:func:`compute_stats` from the finite splats' arrays (``count`` includes the others).

    Args:
        count: all splats, finite or not.
        sh_degree: the splat's SH degree.
        positions: (M, 3) of the finite splats.
        opacities: (M,) logits of the finite splats.
        max_log_scale: (M,) the largest log-scale of each finite splat.
    """
    m = positions.shape[0]
    nan3 = (float("nan"),) * 3
    if m == 0:
        return SplatStats(count, sh_degree, count, nan3, nan3, nan3,
                          0.0, 0.0, 0.0, 0.0, 0.0, 0, [0] * HIST_BINS)
    ext = extent_of(positions, opacities, np.ones(m, bool))
    # the median centre resists up to half the splats flung away; the percentile box does not
    rows = slice(None, None, sample_step(m))
    median = [quantiles(positions[rows, j].astype(np.float64), (50.0,), inplace=True)[0]
              for j in range(3)]
    dist = squared_distances(positions, rows, median)
    np.sqrt(dist, out=dist)
    median_d = quantiles(dist, (50.0,), inplace=True)[0]  # reorders dist: fine for a count
    far = np.count_nonzero(dist > 4.0 * median_d) / dist.shape[0]
    del dist
    hist = np.zeros(HIST_BINS, np.int64)
    opaque = 0
    for a in range(0, m, ROWS):  # alphas a block at a time: bounded float64 temporaries
        alphas = alphas_of(opacities[a:a + ROWS])
        hist += np.histogram(alphas, bins=HIST_BINS, range=(0.0, 1.0))[0]
        opaque += int(np.count_nonzero(alphas >= 0.1))
    # alpha is a monotonic function of the opacity: the median alpha is the median's alpha
    median_op = np.array(quantiles(opacities, (50.0,)), np.float32)
    return SplatStats(
        count=count,
        sh_degree=sh_degree,
        nonfinite=int(count - m),
        bounds_min=(float(positions[:, 0].min()), float(positions[:, 1].min()),
                    float(positions[:, 2].min())),
        bounds_max=(float(positions[:, 0].max()), float(positions[:, 1].max()),
                    float(positions[:, 2].max())),
        centre=ext.centre,
        radius_p98=ext.radius,
        median_distance=median_d,
        far_fraction=float(far) if median_d > 0 else 0.0,
        median_sigma=float(np.exp(quantile(_sample(max_log_scale), 50.0))),
        median_alpha=float(alphas_of(median_op)[0]),
        opaque_count=opaque,
        opacity_histogram=[int(v) for v in hist],
    )


def verdict(stats: SplatStats, *, min_splats: int = 1000) -> Verdict:
    """Judge a reconstruction from its stats.

    Args:
        stats: from :func:`compute_stats`.
        min_splats: fewer opaque splats than this is "nearly empty".

    Returns:
        ``Verdict(ok, problems)``; problems are short phrases, e.g.
        ``"nearly empty: 12 opaque splats"``.
    """
    problems: list[str] = []
    if stats.count == 0 or stats.nonfinite == stats.count:
        problems.append("empty: no finite splats")
    elif stats.opaque_count < min_splats:
        problems.append(f"nearly empty: {stats.opaque_count} opaque splats (< {min_splats})")
    if stats.nonfinite and stats.nonfinite * 10 > stats.count:
        problems.append(f"broken: {stats.nonfinite} of {stats.count} splats are NaN/inf")
    if stats.count and stats.nonfinite < stats.count:
        if stats.far_fraction > 0.25 or stats.radius_p98 > 10 * stats.median_distance:
            problems.append(f"exploded: {stats.far_fraction:.0%} of splats lie far from the body")
        elif stats.radius_p98 > 0 and stats.median_sigma > 0.5 * stats.radius_p98:
            problems.append("exploded: splats are as large as the object itself")
        if stats.median_alpha < 0.05:
            problems.append(f"transparent: median alpha {stats.median_alpha:.3f}")
    return Verdict(ok=not problems, problems=tuple(problems))
