"""Camera captures (stills, camera RAW, video, folders of frames) as arrays with metadata.

This is the reader behind the napari ``File > Open`` contribution and the CLI. It knows nothing
of napari: it returns :class:`Capture` objects, and :meth:`Capture.layer_data` turns one into the
``(data, kwargs, "image")`` tuple napari's reader protocol expects.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import SegDLError
from .base import CAPTURE_SUFFIXES, STILL_SUFFIXES, VIDEO_SUFFIXES, Capture
from .sequence import read_folder, read_sequence
from .stills import read_still
from .video import read_video


def capture_kind(path: str | os.PathLike) -> str | None:
    """``"still"`` (RAW included), ``"video"``, ``"folder"`` or None for what this reader skips."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in STILL_SUFFIXES:
        return "still"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if path.is_dir():
        return "folder"
    return None


def read_capture(path: str | os.PathLike | list) -> Capture:
    """Read a capture file, a folder of frames or a list of frame files.

    Raises
    ------
    SegDLError
        Naming the file and what is wrong: missing, unsupported, corrupt or truncated, too
        large to decode, or frames of different sizes.
    """
    if isinstance(path, (list, tuple)):
        return read_sequence([Path(p) for p in path])
    path = Path(path)
    if not path.exists():
        raise SegDLError(f"'{path}' does not exist.")
    kind = capture_kind(path)
    if kind == "folder":
        return read_folder(path)
    if kind == "video":
        return read_video(path)
    if kind == "still":
        return read_still(path)
    raise SegDLError(
        f"'{path}' is not a camera capture this reader opens "
        f"({', '.join(CAPTURE_SUFFIXES)}, or a folder of frames)."
    )
