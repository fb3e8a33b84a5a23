"""Image files for the CLI and the API: listing, pairing by stem, reading, atomic writing."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ..core.errors import SegDLError
from .captures import STILL_SUFFIXES

IMAGE_SUFFIXES = (*STILL_SUFFIXES, ".gif")
TIFF_SUFFIXES = (".tif", ".tiff")


def list_images(path: str | os.PathLike) -> list[Path]:
    """The image files at ``path``: the file itself, or a directory's images sorted by name."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise SegDLError(f"'{path}' does not exist.")
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise SegDLError(f"Directory '{path}' has no images ({', '.join(IMAGE_SUFFIXES)}).")
    return files


def pair_by_stem(images: list[Path], labels: list[Path]) -> list[tuple[Path, Path]]:
    """Pair image and label files by file stem (``a.png`` <-> ``a.tif``)."""
    if len(images) == 1 and len(labels) == 1:
        return [(images[0], labels[0])]
    by_stem = {p.stem: p for p in labels}
    unpaired = sorted({p.stem for p in images} ^ set(by_stem))
    if unpaired:
        shown = ", ".join(unpaired[:5]) + (" ..." if len(unpaired) > 5 else "")
        raise SegDLError(
            f"{len(unpaired)} file stem(s) have no partner between the images and labels: {shown}. "
            "Name each label file like its image (a.png <-> a.tif)."
        )
    return [(p, by_stem[p.stem]) for p in images]


def read_picture(path: str | os.PathLike) -> np.ndarray:
    """Read an image to segment as napari's reader opens it, into memory.

    Camera stills are turned upright by their EXIF orientation and RAW files demosaiced
    (:mod:`.captures`); other formats fall back to :func:`read_image`.
    """
    path = Path(path)
    if path.suffix.lower() not in STILL_SUFFIXES:
        return read_image(path)
    from .captures import read_capture

    return np.asarray(read_capture(path).data)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read a file's pixels as stored, e.g. label values (TIFF with tifffile, others imageio)."""
    path = Path(path)
    if not path.is_file():
        raise SegDLError(f"'{path}' does not exist.")
    try:
        if path.suffix.lower() in TIFF_SUFFIXES:
            import tifffile

            return tifffile.imread(path)
        import imageio.v3 as iio

        return np.asarray(iio.imread(path))
    except Exception as error:  # readers raise many types for bad files
        raise SegDLError(f"Could not read '{path}' as an image: {error}") from error


def write_labels(
    path: str | os.PathLike, labels: np.ndarray, metadata: dict | None = None
) -> Path:
    """Write a label (or any) image as TIFF atomically: temp file, then rename.

    ``metadata`` (JSON-ready) is stored in the TIFF description, as tifffile's shaped metadata.
    """
    import tifffile

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(suffix=".tif", prefix=f".{path.stem}-", dir=path.parent)
        os.close(handle)
    except OSError as error:
        raise SegDLError(f"Cannot write to '{path.parent}': {error.strerror}.") from error
    try:
        tifffile.imwrite(temp, labels, compression="zlib", metadata=metadata or {})
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)
    return path
