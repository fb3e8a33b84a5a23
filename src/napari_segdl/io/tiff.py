"""TIFF stills and stacks (tifffile): multi-page as a stack, bit depth kept, pixel size as scale."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..core.errors import SegDLError
from .base import MAX_EAGER_BYTES, Still, check_frame_size
from .exif import summarize, tiff_tags
from .orientation import apply_orientation

#: Micrometres per unit, for ImageJ's ``unit`` entry.
_MICROMETRES = {
    "nm": 1e-3,
    "nanometer": 1e-3,
    "micron": 1.0,
    "um": 1.0,
    "µm": 1.0,
    "\\u00b5m": 1.0,
    "micrometer": 1.0,
    "mm": 1e3,
    "millimeter": 1e3,
    "cm": 1e4,
    "centimeter": 1e4,
}
_CENTIMETER = 3


def open_tiff(path: Path):
    """Header of a TIFF: its first series, oriented, with camera tags and pixel size."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        axes, shape, dtype = series.axes, tuple(series.shape), np.dtype(series.dtype)
        iy, ix = axes.index("Y"), axes.index("X")
        check_frame_size(path, shape[iy], shape[ix])
        ifd0, exif, gps = tiff_tags(tif.pages[0])
        mappable = series.dataoffset is not None
        physical = _physical_scale(ifd0, tif.imagej_metadata or {})
    orientation = int(ifd0.get("Orientation", 1))
    nbytes = math.prod(shape) * dtype.itemsize
    if not mappable and nbytes > MAX_EAGER_BYTES:
        raise SegDLError(
            f"'{path}' decodes to {nbytes / 1024**3:.1f} GiB, above the "
            f"{MAX_EAGER_BYTES / 1024**3:.0f} GiB that this reader loads at once. "
            "Save it uncompressed (memory-mapped) or as OME-Zarr to open it lazily."
        )

    def decode() -> np.ndarray:
        if mappable:  # uncompressed and contiguous: map it, read nothing yet
            pixels = tifffile.memmap(path, series=0, mode="r").reshape(shape)
        else:
            pixels = tifffile.imread(path, series=0)
        pixels = apply_orientation(pixels, orientation, (iy, ix))
        return np.moveaxis(pixels, axes.index("S"), -1) if "S" in axes else pixels

    oriented = list(shape)
    if orientation in (5, 6, 7, 8):
        oriented[iy], oriented[ix] = oriented[ix], oriented[iy]
    if "S" in axes:  # samples (colour) last, also for planar RGB
        oriented.append(oriented.pop(axes.index("S")))
    rgb = "S" in axes and oriented[-1] in (3, 4)
    spatial = axes.replace("S", "")
    sy, sx = spatial.index("Y"), spatial.index("X")
    metadata = {"source": str(path), "format": "TIFF", "axes": axes, **summarize(ifd0, exif, gps)}
    scale = None
    if physical is not None:
        metadata["pixel_size_um"] = list(physical[:2])
        scale = [1.0] * len(spatial)
        scale[sy], scale[sx] = physical[:2]
        if "Z" in spatial and physical[2]:
            scale[spatial.index("Z")] = physical[2]
        scale = tuple(scale)
    elif ifd0.get("XResolution") and int(ifd0.get("ResolutionUnit", 2)) == 2:
        metadata["resolution_dpi"] = _ratio(ifd0["XResolution"])
    labels = tuple(a.lower() for a in spatial) if set(spatial) <= set("TZCYX") else None
    return Still(path, tuple(oriented), dtype, rgb, metadata, decode, scale, labels)


def _ratio(value) -> float:
    if isinstance(value, tuple):
        return value[0] / value[1] if len(value) == 2 and value[1] else float(value[0])
    return float(value)


def _physical_scale(ifd0: dict, imagej: dict) -> tuple[float, float, float | None] | None:
    """(row, column, z) pixel size in µm from ImageJ's unit or a centimetre resolution, or None.

    Inch resolutions are print settings (72, 300 dpi) rather than a physical pixel size, so they
    are kept in the metadata but not used as scale.
    """
    if "XResolution" not in ifd0:
        return None
    x_res = _ratio(ifd0["XResolution"])
    y_res = _ratio(ifd0.get("YResolution", ifd0["XResolution"]))
    unit = imagej.get("unit")
    if unit:
        factor = _MICROMETRES.get(str(unit).lower())
    elif int(ifd0.get("ResolutionUnit", 2)) == _CENTIMETER:
        factor = 1e4
    else:
        factor = None
    if factor is None or x_res <= 0 or y_res <= 0:
        return None
    spacing = imagej.get("spacing")
    return factor / y_res, factor / x_res, float(spacing) * factor if spacing else None
