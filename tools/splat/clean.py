"""Clean-up: drop broken, faint and degenerate splats, remove floaters, decimate.

All functions are pure: they return a new Splat (or the same one when nothing changes).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from spacesmith.tools.errors import SplatError
from spacesmith.tools.splat.model import Splat

Mask = npt.NDArray[np.bool_]

MIN_SIGMA = 1e-7  # a splat whose largest axis is below this draws nothing


def finite_mask(splat: Splat) -> Mask:
    """True for splats whose every value is finite."""
    ok = np.isfinite(splat.opacities)
    for a in (splat.positions, splat.scales, splat.rotations, splat.sh_dc):
        _and_rows(ok, np.isfinite(a))
    if splat.sh_rest.shape[1]:
        ok &= np.isfinite(splat.sh_rest.reshape(splat.count, -1)).all(axis=1)
    return ok


def _and_rows(out: Mask, b: Mask) -> None:
    """out &= b.all(axis=1) for a narrow (N, C) mask, a column at a time (a reduction along
    a short axis is many times slower in numpy)."""
    for j in range(b.shape[1]):
        out &= b[:, j]


def row_max(a: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """a.max(axis=1) of a narrow (N, C) array, a column at a time (same values, NaN kept)."""
    out: npt.NDArray[np.float32] = a[:, 0].copy()
    for j in range(1, a.shape[1]):
        np.maximum(out, a[:, j], out=out)
    return out


def degenerate_mask(splat: Splat) -> Mask:
    """True for splats that cannot be drawn: a zero quaternion or a vanishing size."""
    q = splat.rotations
    zero_q = np.einsum("ij,ij->i", q, q) < 1e-24
    tiny = row_max(splat.scales) < np.float32(np.log(MIN_SIGMA))
    return np.asarray(zero_q | tiny, np.bool_)


def alpha_mask(splat: Splat, min_alpha: float) -> Mask:
    """True for splats with alpha >= ``min_alpha`` (compared in logit space, no exp)."""
    if not 0.0 <= min_alpha < 1.0:
        raise SplatError(f"alpha threshold must be in [0, 1), got {min_alpha}")
    return opaque_mask(splat.opacities, min_alpha)


def opaque_mask(opacities: npt.NDArray[np.float32], min_alpha: float) -> Mask:
    """:func:`alpha_mask` of logit opacities (``min_alpha`` in [0, 1), not checked)."""
    if min_alpha == 0.0:
        return np.ones(opacities.shape[0], bool)
    return np.asarray(opacities >= np.float32(np.log(min_alpha / (1.0 - min_alpha))), np.bool_)


def drop_nonfinite(splat: Splat) -> Splat:
    """Drop splats holding NaN/inf values."""
    keep = finite_mask(splat)
    return splat if keep.all() else splat.take(keep)


def prune(splat: Splat, *, min_alpha: float = 0.0, drop_degenerate: bool = True) -> Splat:
    """Drop non-finite, faint (alpha < ``min_alpha``) and (optionally) degenerate splats.

    Args:
        splat: the splats.
        min_alpha: keep splats at least this opaque (0 keeps all).
        drop_degenerate: also drop zero-quaternion and vanishing splats.

    Returns:
        The kept splats.
    """
    keep = finite_mask(splat) & alpha_mask(splat, min_alpha)
    if drop_degenerate:
        keep &= ~degenerate_mask(splat)
    return splat if keep.all() else splat.take(keep)


def outlier_mask(splat: Splat, *, percentile: float = 90.0, factor: float = 2.5) -> Mask:
    """True for splats within ``factor`` x the ``percentile`` distance from the median centre.

    The median centre and the distance percentile ignore floaters, so a few far splats
    cannot drag the threshold out with them.
    """
    pos = splat.positions
    centre = quantile(_sample(pos), 50.0).astype(np.float32)
    d2 = np.einsum("ij,ij->i", pos - centre, pos - centre)
    limit = float(quantile(_sample(d2), percentile)) * factor * factor
    return np.asarray(d2 <= limit, np.bool_)


def remove_outliers(splat: Splat, *, percentile: float = 90.0, factor: float = 2.5) -> Splat:
    """Drop splats far from the body (see :func:`outlier_mask`)."""
    if splat.count < 16:
        return splat
    keep = outlier_mask(splat, percentile=percentile, factor=factor)
    return splat if keep.all() else splat.take(keep)


def importance(splat: Splat) -> npt.NDArray[np.float32]:
    """Opacity x volume of each splat (alpha * sigma_x * sigma_y * sigma_z)."""
    log_vol = splat.scales.sum(axis=1, dtype=np.float32)
    return np.asarray(splat.alphas() * np.exp(log_vol), np.float32)


def decimate(splat: Splat, max_splats: int) -> Splat:
    """Keep the ``max_splats`` most important splats (opacity x volume), in file order.

    Raises:
        SplatError: ``max_splats`` < 1.
    """
    if max_splats < 1:
        raise SplatError(f"max splats must be at least 1, got {max_splats}")
    if splat.count <= max_splats:
        return splat
    score = importance(splat)
    keep = np.argpartition(-score, max_splats - 1)[:max_splats]
    keep.sort()
    return splat.take(keep)


def quantile(a: npt.NDArray[np.floating], q: float) -> npt.NDArray[np.float64]:  # type: ignore[type-arg]
    """The ``q``-th percentile along axis 0 (nearest rank, via ``np.partition``).

    np.percentile / np.median import numpy.ma (through np.unique), which costs ~0.1-0.4 s of
    cold start on the convert path; a partition gives the same robust statistic.
    """
    n = a.shape[0]
    k = min(n - 1, max(0, round(q / 100.0 * (n - 1))))
    return np.asarray(np.partition(a, k, axis=0)[k], np.float64)


def quantiles(a: npt.NDArray[np.floating], qs: tuple[float, ...], *,  # type: ignore[type-arg]
              inplace: bool = False) -> list[float]:
    """:func:`quantile` of a 1-D array at several percentiles, with one partition
    (``inplace``: reorder ``a`` itself rather than a copy)."""
    n = a.shape[0]
    ks = [min(n - 1, max(0, round(q / 100.0 * (n - 1)))) for q in qs]
    kth = sorted(set(ks))
    if inplace:
        a.partition(kth)
        part = a
    else:
        part = np.partition(a, kth)
    return [float(part[k]) for k in ks]


def sample_step(n: int, limit: int = 200_000) -> int:
    """The stride :func:`_sample` takes through ``n`` rows."""
    return 1 if n <= limit else n // limit + 1


def _sample(a: npt.NDArray[np.float32], limit: int = 200_000) -> npt.NDArray[np.float32]:
    """A deterministic evenly strided subsample for percentile estimates on big clouds."""
    if a.shape[0] <= limit:
        return a
    return a[:: sample_step(a.shape[0], limit)]
