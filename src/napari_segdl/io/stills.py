"""Still images: JPEG, PNG, BMP, WebP (Pillow), HEIC/HEIF (pillow-heif), TIFF and camera RAW.

Each format opens in two steps: :func:`open_still` reads the header only (shape, dtype,
metadata), cheap enough to check every frame of a sequence, and :meth:`Still.read` decodes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import SegDLError
from .base import (
    DECODE_ERRORS,
    HEIF_SUFFIXES,
    RAW_SUFFIXES,
    TIFF_SUFFIXES,
    Capture,
    Still,
    check_frame_size,
    unreadable,
)
from .exif import pillow_tags, summarize
from .orientation import apply_orientation, oriented_shape
from .raw import open_raw
from .tiff import open_tiff


def open_still(path: Path) -> Still:
    """Read the header of a still image file (no pixels are decoded)."""
    suffix = path.suffix.lower()
    if suffix in TIFF_SUFFIXES:
        opener = open_tiff
    elif suffix in RAW_SUFFIXES:
        opener = open_raw
    elif suffix in HEIF_SUFFIXES:
        opener = _open_heif
    else:
        opener = _open_pillow
    try:
        return opener(path)
    except SegDLError:
        raise
    except DECODE_ERRORS as error:
        raise unreadable(path, error) from error


def read_still(path: Path, keep_alpha: bool = False) -> Capture:
    """Read a still image file as a :class:`Capture` (RGB without alpha unless ``keep_alpha``
    and the alpha varies)."""
    return open_still(path).capture(keep_alpha=keep_alpha)


def _pillow_mode(image) -> str:
    """The mode to convert to: keep bit depth and alpha, turn palettes and CMYK into RGB(A)."""
    mode = image.mode
    if mode in ("L", "RGB", "RGBA", "I", "F") or mode.startswith("I;16"):
        return mode
    if mode == "1":
        return "L"
    if mode in ("LA", "PA") or (mode == "P" and "transparency" in image.info):
        return "RGBA"
    return "RGB"


def _open_pillow(path: Path) -> Still:
    from PIL import Image

    try:
        with Image.open(path) as image:
            check_frame_size(path, image.height, image.width)
            exif = image.getexif()
            mode, image_format = _pillow_mode(image), image.format
            width, height = image.size
    except Image.DecompressionBombError as error:
        raise SegDLError(f"Refusing to decode '{path}': {error}") from error
    orientation = exif.get(0x0112)
    bands = Image.getmodebands(mode)
    shape = oriented_shape(height, width, orientation) + ((bands,) if bands > 1 else ())
    dtype = np.dtype({"I": np.int32, "F": np.float32}.get(mode, np.uint8))
    if mode.startswith("I;16"):
        dtype = np.dtype(np.uint16)

    def decode() -> np.ndarray:
        with Image.open(path) as image:
            image.load()
            pixels = np.asarray(image if image.mode == mode else image.convert(mode))
        return apply_orientation(pixels.astype(dtype, copy=False), orientation)

    metadata = {"source": str(path), "format": image_format, **summarize(*pillow_tags(exif))}
    return Still(path, shape, dtype, bands in (3, 4), metadata, decode)


def _open_heif(path: Path) -> Still:
    """HEIC/HEIF (phones): libheif applies the file's rotation and mirroring itself."""
    import pillow_heif
    from PIL import Image

    heif = pillow_heif.open_heif(path, convert_hdr_to_8bit=False)
    width, height = heif.size
    check_frame_size(path, height, width)
    bands = 4 if heif.has_alpha else 3
    dtype = np.dtype(np.uint16 if heif.info.get("bit_depth", 8) > 8 else np.uint8)
    exif = Image.Exif()
    if heif.info.get("exif"):
        exif.load(heif.info["exif"])
    metadata = {"source": str(path), "format": "HEIF", **summarize(*pillow_tags(exif))}
    metadata.pop("exif_orientation", None)  # already applied by libheif (irot/imir)

    def decode() -> np.ndarray:
        image = pillow_heif.open_heif(path, convert_hdr_to_8bit=False)
        return np.asarray(image).astype(dtype, copy=False)

    return Still(path, (height, width, bands), dtype, True, metadata, decode)
