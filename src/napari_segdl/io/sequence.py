"""A folder of frames, or a list of frame files, as one lazy stack in natural order."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import SegDLError
from .base import STILL_SUFFIXES, Capture


def read_folder(folder: Path) -> Capture:
    """The still images in ``folder`` (hidden files skipped) as a stack: frame2 before frame10."""
    files = [
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in STILL_SUFFIXES
    ]
    if not files:
        raise SegDLError(
            f"Folder '{folder}' has no frames to stack ({', '.join(STILL_SUFFIXES)})."
        )
    capture = read_sequence(files)
    capture.name = folder.name
    return capture


def read_sequence(files: list[Path]) -> Capture:
    """Stack frame files lazily along a new first axis, in natural order.

    Every header is read up front (no pixels), so frames of different sizes are refused at once,
    naming the first file that differs; each frame is decoded when it is displayed.
    """
    import dask
    import dask.array as da
    from natsort import os_sorted

    from .stills import open_still

    files = [Path(p) for p in os_sorted(files)]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise SegDLError(f"Frame file(s) not found: {', '.join(missing[:3])}.")
    stills = [open_still(path) for path in files]
    first = stills[0]
    for still in stills[1:]:
        if (still.shape, still.dtype) != (first.shape, first.dtype):
            raise SegDLError(
                f"Frame '{still.path.name}' is {_describe(still)} but '{first.path.name}' is "
                f"{_describe(first)}: all frames of a sequence must have the same size and type. "
                "Resize them, or open them one by one."
            )
    frames = [
        da.from_delayed(dask.delayed(still.read)(), first.shape, first.dtype) for still in stills
    ]
    capture = first.capture(da.stack(frames))
    capture.name = files[0].parent.name or first.path.stem
    capture.metadata = {**first.metadata, "source": [str(p) for p in files], "frames": len(files)}
    if capture.scale is not None:
        capture.scale = (1.0, *capture.scale)
    if capture.axis_labels is not None:
        labels = capture.axis_labels
        capture.axis_labels = None if "t" in labels else ("t", *labels)
    return capture


def _describe(still) -> str:
    return f"{' x '.join(map(str, still.shape))} {np.dtype(still.dtype).name}"
