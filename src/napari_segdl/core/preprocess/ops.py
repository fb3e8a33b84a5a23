"""Preprocessing operations: pure functions on one 2D slice, (Y, X) or (Y, X, C).

Each :class:`Operation` declares its parameters (with limits, for validation and for the dock's
widgets), what it needs (a colour image), what it does to the shape and dtype, and whether it is
geometric (applies to labels too, with nearest neighbour). :mod:`.recipe` runs them on whole
images and stacks, numpy or dask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..schema import Spec


@dataclass(frozen=True)
class Param:
    """One parameter of an operation: its name, default and :class:`~..schema.Spec` (type,
    range, help), the description training and prediction parameters have too."""

    name: str
    default: float | int | bool | tuple | None
    spec: Spec


def param(name: str, default, kind: type, low=None, high=None, doc: str = "") -> Param:
    """An operation's parameter: ``kind`` is int, float, bool or tuple (of whole numbers);
    a default of None is optional ("not set")."""
    label = name.replace("_", " ")
    none_text = "not set" if default is None else None
    about = Spec(kind, label, doc, "preprocess", low=low, high=high, none_text=none_text)
    return Param(name, default, about)


@dataclass(frozen=True)
class Operation:
    """A named preprocessing step."""

    name: str
    title: str
    group: str
    func: Callable[..., np.ndarray]
    params: tuple[Param, ...] = ()
    needs_colour: bool = False
    needs_grey: bool = False
    grey_or_rgb: bool = False  # grey or RGB(A) only: other channel counts are refused
    geometric: bool = False
    keeps_dtype: bool = False
    channels_out: Callable[[int | None, dict], int | None] = lambda channels, params: channels


def _channel_axis(x: np.ndarray) -> int | None:
    return -1 if x.ndim == 3 else None


def _to_unit(x: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Float32 scaled to [0, 1] by the slice's range, and that range (to scale back)."""
    x = x.astype(np.float32)
    low, high = float(x.min()), float(x.max())
    return (x - low) / (high - low if high > low else 1.0), low, high


def _from_unit(y: np.ndarray, low: float, high: float) -> np.ndarray:
    return (y * (high - low if high > low else 1.0) + low).astype(np.float32)


def resize_shape(height: int, width: int, params: dict) -> tuple[int, int]:
    """The (rows, columns) a resize step makes of a (height, width) slice."""
    if params.get("height") and params.get("width"):
        return int(params["height"]), int(params["width"])
    factor = float(params.get("factor") or 1.0)
    return max(1, round(height * factor)), max(1, round(width * factor))


def resize(x, height=None, width=None, factor=1.0, labels=False):
    from skimage.transform import resize as sk_resize

    rows, cols = resize_shape(x.shape[0], x.shape[1], locals())
    if (rows, cols) == x.shape[:2]:
        return x
    shrinking = rows < x.shape[0] or cols < x.shape[1]
    out = sk_resize(
        x,
        (rows, cols, *x.shape[2:]),
        order=0 if labels else 1,
        anti_aliasing=shrinking and not labels,
        preserve_range=True,
    )
    if np.issubdtype(x.dtype, np.integer) and not labels:
        out = np.rint(out)
    return out.astype(x.dtype)


def gaussian(x, sigma=1.0):
    from skimage.filters import gaussian as sk_gaussian

    return sk_gaussian(
        x.astype(np.float32), sigma=sigma, channel_axis=_channel_axis(x), preserve_range=True
    ).astype(np.float32)


def median(x, radius=1):
    from scipy.ndimage import median_filter

    size = (2 * radius + 1, 2 * radius + 1, *((1,) if x.ndim == 3 else ()))
    return median_filter(x, size=size)


def bilateral(x, sigma_color=0.1, sigma_spatial=2.0):
    from skimage.restoration import denoise_bilateral

    unit, low, high = _to_unit(x)
    out = denoise_bilateral(
        unit, sigma_color=sigma_color, sigma_spatial=sigma_spatial, channel_axis=_channel_axis(x)
    )
    return _from_unit(out, low, high)


def nl_means(x, strength=0.8, patch_size=5, patch_distance=6):
    from skimage.restoration import denoise_nl_means, estimate_sigma

    unit, low, high = _to_unit(x)
    sigma = float(np.mean(estimate_sigma(unit, channel_axis=_channel_axis(x))))
    out = denoise_nl_means(
        unit,
        h=strength * max(sigma, 1e-3),
        sigma=sigma,
        patch_size=patch_size,
        patch_distance=patch_distance,
        fast_mode=True,
        channel_axis=_channel_axis(x),
    )
    return _from_unit(out, low, high)


def total_variation(x, weight=0.1):
    from skimage.restoration import denoise_tv_chambolle

    unit, low, high = _to_unit(x)
    out = denoise_tv_chambolle(unit, weight=weight, channel_axis=_channel_axis(x))
    return _from_unit(out, low, high)


def zscore(x):
    x = x.astype(np.float32)
    mean = x.mean(axis=(0, 1), keepdims=True)
    std = x.std(axis=(0, 1), keepdims=True)
    return (x - mean) / np.where(std > 0, std, 1.0)


def percentile(x, low=1.0, high=99.8, clip=True):
    x = x.astype(np.float32)
    lo = np.percentile(x, low, axis=(0, 1), keepdims=True)
    hi = np.percentile(x, high, axis=(0, 1), keepdims=True)
    out = (x - lo) / np.where(hi > lo, hi - lo, 1.0)
    return np.clip(out, 0, 1) if clip else out


def clahe(x, clip_limit=0.01, kernel_size=0):
    from skimage.exposure import equalize_adapthist

    def one(channel):
        unit, _, _ = _to_unit(channel)
        return equalize_adapthist(unit, kernel_size=kernel_size or None, clip_limit=clip_limit)

    if x.ndim == 2:
        return one(x).astype(np.float32)
    return np.stack([one(x[..., c]) for c in range(x.shape[-1])], -1).astype(np.float32)


def rgb_to_bgr(x):
    order = [2, 1, 0, *range(3, x.shape[-1])]
    return x[..., order]


def rgb_to_grey(x):
    from skimage.color import rgb2gray

    return rgb2gray(x[..., :3].astype(np.float32)).astype(np.float32)


def to_grey(x):
    """Grey from any grey or RGB(A) image: luminance of colour, grey as it is (float32)."""
    return rgb_to_grey(x) if x.ndim == 3 else x.astype(np.float32)


#: A brightfield RGB image (stained or not): its median luminance on a 0-1 scale above this.
BRIGHT_BACKGROUND = 0.5


def unit_rgb(x) -> np.ndarray:
    """The RGB channels of an RGB(A) image on a 0-1 scale (float32): integers over their
    type's maximum, floats in [0, 1] as they are and floats in [0, 255] over 255."""
    from ..errors import SegDLError

    rgb = x[..., :3]
    if np.issubdtype(rgb.dtype, np.integer):
        return (rgb / np.iinfo(rgb.dtype).max).astype(np.float32)
    low, high = float(np.min(rgb)), float(np.max(rgb))
    if low < 0 or high > 255:
        raise SegDLError(
            f"a stained (RGB) image of floats must hold 0-1 or 0-255 values; this one runs from "
            f"{low:g} to {high:g}: scale it to 0-1 first."
        )
    return (rgb / (255.0 if high > 1.0 else 1.0)).astype(np.float32)


def is_brightfield(rgb: np.ndarray) -> bool:
    """Whether a 0-1 RGB image is a brightfield image (a stained slide, H&E or IHC, or an
    unstained one): light through it, a bright background where nothing absorbs."""
    return float(np.median(rgb.mean(axis=-1))) > BRIGHT_BACKGROUND


def nuclear_stain(x):
    """Grey in which nuclei are bright wherever a stain marks them (float32): for a brightfield
    RGB image, haematoxylin's optical density (colour deconvolution, scikit-image's
    ``rgb2hed``, Ruifrok & Johnston 2001; on an unstained grey slide it is the optical density
    itself, so dark nuclei turn bright there too); luminance for another RGB image
    (fluorescence); a grey image as it is."""
    if x.ndim != 3:
        return x.astype(np.float32)
    rgb = unit_rgb(x)
    if not is_brightfield(rgb):
        return rgb_to_grey(rgb)
    from skimage.color import rgb2hed

    return rgb2hed(rgb)[..., 0].astype(np.float32)


def grey_to_rgb(x):
    return np.stack([x, x, x], axis=-1)


def pick_channels(x, order=(0,)):
    picked = x[..., list(order)]
    return picked[..., 0] if len(order) == 1 else picked


def picked_channels(channels, params):
    count = len(params.get("order", (0,)))
    return None if count == 1 else count
