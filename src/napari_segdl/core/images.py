"""Image validation, channel handling and robust percentile normalisation."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .errors import SegDLError

#: The largest trailing axis that is read as channels (Y, X, C) rather than as a stack.
MAX_CHANNELS = 8


def as_channels_last(image, name: str = "image") -> np.ndarray:
    """Return a 2D image as a (Y, X, C) array, validating shape and values.

    Parameters
    ----------
    image : array-like
        (Y, X) grey or (Y, X, C) with C <= ``MAX_CHANNELS`` (RGB, RGBA, multichannel).
    name : str
        Name of the layer or file, used in error messages.

    Returns
    -------
    numpy.ndarray
        The same values with a channel axis, dtype unchanged.
    """
    array = np.asarray(image)
    if array.dtype == bool:
        array = array.astype(np.uint8)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise SegDLError(
            f"{name}: pixel type {array.dtype} is not numeric; use a grey or RGB image."
        )
    if array.ndim == 2:
        array = array[..., np.newaxis]
    elif array.ndim != 3 or array.shape[-1] > MAX_CHANNELS:
        raise SegDLError(
            f"{name}: shape {array.shape} is not a 2D image (Y, X) or (Y, X, C) with at most "
            f"{MAX_CHANNELS} channels; choose a single 2D slice."
        )
    if min(array.shape[:2]) < 1:
        raise SegDLError(f"{name}: the image is empty (shape {array.shape}).")
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise SegDLError(
            f"{name}: contains NaN or infinite values; replace them "
            "(for example with numpy.nan_to_num) before training or prediction."
        )
    return array


def drop_alpha(image, keep_varying: bool = True) -> tuple[np.ndarray, str | None]:
    """``image`` (..., 4), RGBA, as RGB when its alpha is constant: such a channel carries
    nothing (DSB 2018 and many exported PNGs are RGBA with alpha 255), and a model trained on
    it would want four channels ever after. A varying alpha is dropped too unless
    ``keep_varying``. Returns the pixels and a note of what happened (None: no 4th channel).
    """
    array = np.asarray(image)
    if array.ndim < 3 or array.shape[-1] != 4:
        return array, None
    alpha = array[..., 3]
    low, high = alpha.min(), alpha.max()
    if low == high:
        return array[..., :3], f"constant alpha ({low}) dropped: read as RGB"
    if keep_varying:
        return array, "alpha varies: kept as a fourth channel"
    return array[..., :3], "alpha varies: dropped (keep_alpha=True keeps it)"


@dataclass(frozen=True)
class Normalization:
    """Per-image, per-channel percentile scaling to about [0, 1].

    Stored in the model bundle and re-applied to every image the model sees, so
    differences in exposure or bit depth between images do not matter.
    """

    low: float = 1.0
    high: float = 99.8

    def __post_init__(self):
        if not 0.0 <= self.low < self.high <= 100.0:
            raise SegDLError(
                f"Normalisation percentiles must satisfy 0 <= low < high <= 100. "
                f"Received: low={self.low}, high={self.high}"
            )

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Scale a (Y, X, C) image (or (Z, Y, X, C) volume) channel by channel; float32."""
        return self.scale(image, self.limits(image))

    def limits(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The low and high percentiles of each channel of a (Y, X, C) image or a volume."""
        data = np.asarray(image, dtype=np.float32)
        lo, hi = np.percentile(data, [self.low, self.high], axis=tuple(range(data.ndim - 1)))
        return lo, hi

    @staticmethod
    def scale(image: np.ndarray, limits: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Scale (part of) an image with the ``limits`` of the whole image; returns float32."""
        lo, hi = (np.asarray(v, dtype=np.float32) for v in limits)
        span = np.where(hi > lo, hi - lo, 1.0).astype(np.float32)
        return (np.asarray(image, dtype=np.float32) - lo) / span

    def to_dict(self) -> dict:
        return {"method": "percentile", **asdict(self)}

    @classmethod
    def from_dict(cls, spec: dict) -> Normalization:
        if spec.get("method", "percentile") != "percentile":
            raise SegDLError(f"Unknown normalisation method {spec.get('method')!r} in the model.")
        return cls(low=float(spec["low"]), high=float(spec["high"]))
