"""Camera captures (stills, camera RAW, video, folders of frames) and medical volumes (NIfTI,
DICOM series) as arrays with metadata.

This is the reader behind the napari ``File > Open`` contribution and the CLI. It knows nothing
of napari: it returns :class:`Capture` objects, and :meth:`Capture.layer_data` turns one into the
``(data, kwargs, "image")`` tuple napari's reader protocol expects.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import SegDLError
from .base import CAPTURE_SUFFIXES, STILL_SUFFIXES, VIDEO_SUFFIXES, Capture
from .dicom import read_dicom_folder
from .nifti import NIFTI_SUFFIXES, is_nifti, read_nifti
from .sequence import read_folder, read_sequence
from .stills import read_still
from .video import read_video


def capture_kind(path: str | os.PathLike) -> str | None:
    """``"still"`` (RAW included), ``"video"``, ``"volume"`` (NIfTI), ``"dicom"`` (a folder of a
    DICOM series), ``"folder"`` (of frames) or None for what this reader skips."""
    path = Path(path)
    suffix = path.suffix.lower()
    if is_nifti(path):
        return "volume"
    if suffix in STILL_SUFFIXES:
        return "still"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if path.is_dir():
        return "dicom" if any(p.suffix.lower() == ".dcm" for p in path.iterdir()) else "folder"
    return None


def read_capture(path: str | os.PathLike | list, keep_alpha: bool = False) -> Capture:
    """Read a capture file, a folder of frames or a list of frame files (a still's alpha
    channel is dropped when it is constant, and when it varies unless ``keep_alpha``).

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
    if kind == "volume":
        return read_nifti(path)
    if kind == "dicom":
        return read_dicom_folder(path)
    if kind == "folder":
        return read_folder(path)
    if kind == "video":
        return read_video(path)
    if kind == "still":
        return read_still(path, keep_alpha)
    raise SegDLError(
        f"'{path}' is not a capture or volume this reader opens "
        f"({', '.join((*CAPTURE_SUFFIXES, *NIFTI_SUFFIXES))}, a folder of frames or a DICOM "
        "series folder)."
    )
