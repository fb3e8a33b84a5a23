"""What every reader shares: capture types, suffix tables, safety limits and decode errors.

The format readers (:mod:`.stills`, :mod:`.tiff`, :mod:`.raw`, :mod:`.video`, :mod:`.sequence`)
import this module; :mod:`.captures` dispatches to them by suffix.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import SegDLError

PILLOW_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
HEIF_SUFFIXES = (".heic", ".heif")
TIFF_SUFFIXES = (".tif", ".tiff")
RAW_SUFFIXES = (
    ".dng",
    ".cr2",
    ".cr3",
    ".crw",
    ".nef",
    ".nrw",
    ".arw",
    ".srf",
    ".sr2",
    ".raf",
    ".orf",
    ".rw2",
    ".rwl",
    ".pef",
    ".srw",
    ".erf",
    ".kdc",
    ".dcr",
    ".mos",
    ".mef",
    ".mrw",
    ".3fr",
    ".fff",
    ".iiq",
    ".x3f",
)
VIDEO_SUFFIXES = (".mp4", ".m4v", ".avi", ".mov", ".mkv", ".webm")
STILL_SUFFIXES = PILLOW_SUFFIXES + HEIF_SUFFIXES + TIFF_SUFFIXES + RAW_SUFFIXES
CAPTURE_SUFFIXES = STILL_SUFFIXES + VIDEO_SUFFIXES

#: What decoders raise for a damaged file (programming errors such as TypeError still surface).
DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    KeyError,
    IndexError,
    struct.error,
    zlib.error,
)

#: Largest frame decoded (pixels), as Pillow's own decompression-bomb limit (2 x 89.5 MP).
MAX_FRAME_PIXELS = 178_956_970
#: Largest stack decoded into memory at once (bytes); uncompressed TIFFs are memory-mapped instead.
MAX_EAGER_BYTES = 8 * 1024**3


@dataclass
class Capture:
    """Pixels read from a capture and what the file says about them.

    Attributes
    ----------
    data : array-like
        numpy (stills), a read-only memory map (uncompressed TIFF) or a dask array (video,
        sequences), shaped ([T or Z,] Y, X[, C]) with colour last.
    name : str
        Layer name (the file or folder stem).
    rgb : bool
        True for colour (RGB or RGBA) pixels.
    metadata : dict
        JSON-ready: ``source``, ``format``, camera fields from :mod:`.exif`, ``frame_rate`` for
        video, ``pixel_size_um`` where the file carries a pixel size.
    scale : tuple of float or None
        Pixel size per axis (without the colour axis), or None where the file has none.
    axis_labels : tuple of str or None
        Axis names without the colour axis, e.g. ``("t", "y", "x")``.
    """

    data: Any
    name: str
    rgb: bool
    metadata: dict = field(default_factory=dict)
    scale: tuple[float, ...] | None = None
    axis_labels: tuple[str, ...] | None = None

    def layer_data(self) -> tuple:
        """``(data, kwargs, "image")`` for napari's reader protocol."""
        kwargs = {"name": self.name, "rgb": self.rgb, "metadata": self.metadata}
        if self.scale is not None:
            kwargs["scale"] = self.scale
        if self.axis_labels is not None:
            kwargs["axis_labels"] = self.axis_labels
        if not isinstance(self.data, np.ndarray) and self.data.dtype == np.uint8:
            kwargs["contrast_limits"] = (0, 255)  # napari would decode frames to find them
        return (self.data, kwargs, "image")


@dataclass
class Still:
    """A still image's header, and how to decode its pixels."""

    path: Path
    shape: tuple[int, ...]
    dtype: np.dtype
    rgb: bool
    metadata: dict
    decode: Callable[[], np.ndarray]
    scale: tuple[float, ...] | None = None
    axis_labels: tuple[str, ...] | None = None

    def read(self) -> np.ndarray:
        """The pixels, the right way up; a clear error if the file turns out to be damaged."""
        try:
            return self.decode()
        except SegDLError:
            raise
        except DECODE_ERRORS as error:
            raise unreadable(self.path, error) from error

    def capture(self, data=None, keep_alpha: bool = False) -> Capture:
        """This still as a :class:`Capture` (decoding it unless ``data`` is given). An alpha
        channel is dropped — a constant one always, one that varies unless ``keep_alpha`` —
        and ``metadata["alpha"]`` says so."""
        metadata = dict(self.metadata)
        data = self.read() if data is None else data
        if self.rgb and isinstance(data, np.ndarray):
            from ..core.images import drop_alpha

            data, note = drop_alpha(data, keep_varying=keep_alpha)
            if note:
                metadata["alpha"] = note
        return Capture(
            data=data,
            name=self.path.stem,
            rgb=self.rgb,
            metadata=metadata,
            scale=self.scale,
            axis_labels=self.axis_labels,
        )


def missing_codec(path: Path, error: BaseException) -> SegDLError | None:
    """The error for a file whose compression needs a codec that is not installed, or None.

    tifffile decodes LZW, Deflate, JPEG, ... through ``imagecodecs`` (a dependency); when it
    is missing or lacks a codec, the file is fine and the message says what to install.
    """
    detail = str(error)
    if "imagecodecs" not in detail:
        return None
    return SegDLError(
        f"Cannot decode '{path}': its compression needs a codec this installation lacks "
        f"({detail.strip()}). The file is fine: install the codecs with "
        "`pip install --upgrade imagecodecs` and open it again."
    )


def unreadable(path: Path, error: BaseException) -> SegDLError:
    """The error for a file that a decoder refused: corrupt, truncated or not what it says
    (or, when a codec is missing, what to install)."""
    codec = missing_codec(path, error)
    if codec is not None:
        return codec
    detail = str(error).strip() or type(error).__name__
    return SegDLError(
        f"Cannot read '{path}': the file is corrupt, truncated or not a {path.suffix} file "
        f"({detail}). Copy it again from the camera or export it again."
    )


def check_frame_size(path: Path, height: int, width: int) -> None:
    """Refuse frames above :data:`MAX_FRAME_PIXELS` before decoding them (decompression bombs)."""
    if height * width > MAX_FRAME_PIXELS:
        raise SegDLError(
            f"Refusing to decode '{path}': {width} x {height} pixels is above the "
            f"{MAX_FRAME_PIXELS / 1e6:.0f}-megapixel safety limit (a decompression bomb, or an "
            "image to tile first, e.g. with tifffile or dask)."
        )
