"""npe2 reader for camera captures and medical volumes (NIfTI, DICOM series folders): ``get_reader`` answers at discovery, ``read`` opens.

``get_reader`` looks only at names (and whether a folder holds frames), never opens a file and
never raises; errors in a file surface when it is read, as a napari error naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from .io.captures import STILL_SUFFIXES, capture_kind, read_capture


def get_reader(path: str | list[str]):
    """Return :func:`read` for a capture, a NIfTI volume, a folder of frames or of DICOM slices,
    or a list of stills; else None."""
    try:
        if isinstance(path, (list, tuple)):
            stills = [os.fspath(p).lower().endswith(STILL_SUFFIXES) for p in path]
            return read if path and all(stills) else None
        kind = capture_kind(path)
        if kind in ("folder", "dicom"):
            return read if _has_frames(Path(path)) else None
        return read if kind else None
    except Exception:  # discovery must never fail, whatever the path
        return None


def read(path: str | list[str]) -> list[tuple]:
    """Read a capture (or a stack of frames) into one image layer's data."""
    return [read_capture(path).layer_data()]


def _has_frames(folder: Path) -> bool:
    """Whether a folder holds frames (stills) or DICOM slices."""
    return any(p.suffix.lower() in (*STILL_SUFFIXES, ".dcm") for p in folder.iterdir())
