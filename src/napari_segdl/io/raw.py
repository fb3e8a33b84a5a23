"""Camera RAW (DNG, CR2, CR3, NEF, ARW, RAF, ORF, RW2, ... : what LibRaw reads, through rawpy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import DECODE_ERRORS, Still, check_frame_size, unreadable
from .exif import summarize, tiff_tags

#: LibRaw's ``flip`` values that turn the picture by 90 degrees.
_QUARTER_TURNS = (5, 6)


def open_raw(path: Path):
    """Header of a RAW file; :meth:`Still.read` demosaics it to 16-bit RGB, turned upright."""
    import rawpy

    try:
        with rawpy.imread(str(path)) as raw:
            sizes, other, lens = raw.sizes, raw.other, raw.lens
    except rawpy.LibRawError as error:
        raise unreadable(path, error) from error
    check_frame_size(path, sizes.height, sizes.width)
    shape = (sizes.height, sizes.width)
    if sizes.flip in _QUARTER_TURNS:
        shape = shape[::-1]
    metadata = {"source": str(path), "format": f"RAW ({path.suffix.lstrip('.').upper()})"}
    metadata.update(_tiff_metadata(path))
    metadata.update(_libraw_metadata(other, lens))

    def decode() -> np.ndarray:
        try:
            with rawpy.imread(str(path)) as raw:
                # LibRaw turns the picture as the camera recorded it (user_flip=None).
                return raw.postprocess(output_bps=16, use_camera_wb=True)
        except rawpy.LibRawError as error:
            raise unreadable(path, error) from error

    return Still(path, (*shape, 3), np.dtype(np.uint16), True, metadata, decode)


def _libraw_metadata(other, lens) -> dict:
    """Exposure fields that LibRaw parsed (for every RAW format, TIFF-based or not)."""
    fields = {
        "exposure_time_s": float(other.shutter_speed),
        "f_number": float(other.aperture),
        "iso": float(other.iso_speed),
        "focal_length_mm": float(other.focal_length),
        "lens": " ".join(part for part in (lens.make, lens.model) if part),
    }
    found = {key: value for key, value in fields.items() if value}
    if other.timestamp is not None and other.timestamp.year > 1970:
        found["capture_time"] = other.timestamp.isoformat()
    return found


def _tiff_metadata(path: Path) -> dict:
    """Make, model and GPS from the TIFF structure most RAW formats share; {} for the others."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            metadata = summarize(*tiff_tags(tif.pages[0]))
    except (tifffile.TiffFileError, *DECODE_ERRORS):  # CR3, RAF, ... are not TIFF-based
        return {}
    metadata.pop("exif_orientation", None)  # LibRaw applies the RAW's own orientation
    return metadata
