"""Image files for the CLI and the API: listing, pairing by stem, reading, atomic writing."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.errors import SegDLError
from ..core.paths import atomic_write, writable_folder
from .base import STILL_SUFFIXES, missing_codec
from .nifti import NIFTI_SUFFIXES, is_nifti, nifti_stem

IMAGE_SUFFIXES = (*STILL_SUFFIXES, ".gif")
TIFF_SUFFIXES = (".tif", ".tiff")


def list_images(path: str | os.PathLike) -> list[Path]:
    """The image files at ``path``: the file itself, or a directory's images sorted by name."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise SegDLError(f"'{path}' does not exist.")
    files = sorted(
        p
        for p in path.iterdir()
        if p.is_file() and (p.suffix.lower() in IMAGE_SUFFIXES or is_nifti(p))
    )
    if not files:
        kinds = ", ".join((*IMAGE_SUFFIXES, *NIFTI_SUFFIXES))
        raise SegDLError(f"Directory '{path}' has no images ({kinds}).")
    return files


def file_stem(path: Path) -> str:
    """The name without its suffix (``.nii.gz`` counts as one)."""
    return nifti_stem(path) if is_nifti(path) else path.stem


def pair_by_stem(images: list[Path], labels: list[Path]) -> list[tuple[Path, Path]]:
    """Pair image and label files by file stem (``a.png`` <-> ``a.tif``)."""
    if len(images) == 1 and len(labels) == 1:
        return [(images[0], labels[0])]
    by_stem = {file_stem(p): p for p in labels}
    unpaired = sorted({file_stem(p) for p in images} ^ set(by_stem))
    if unpaired:
        shown = ", ".join(unpaired[:5]) + (" ..." if len(unpaired) > 5 else "")
        raise SegDLError(
            f"{len(unpaired)} file stem(s) have no partner between the images and labels: {shown}. "
            "Name each label file like its image (a.png <-> a.tif)."
        )
    return [(p, by_stem[file_stem(p)]) for p in images]


def read_picture(path: str | os.PathLike) -> np.ndarray:
    """Read an image to segment as napari's reader opens it, into memory.

    Camera stills are turned upright by their EXIF orientation and RAW files demosaiced
    (:mod:`.captures`); other formats fall back to :func:`read_image`.
    """
    path = Path(path)
    if path.suffix.lower() not in STILL_SUFFIXES or is_nifti(path):
        return read_image(path)
    from .captures import read_capture

    return np.asarray(read_capture(path).data)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read a file's pixels as stored, e.g. label values (TIFF with tifffile, NIfTI with
    nibabel, others imageio)."""
    path = Path(path)
    if not path.is_file():
        raise SegDLError(f"'{path}' does not exist.")
    if is_nifti(path):  # volumes in one orientation, as the reader opens them
        from .nifti import read_nifti

        return read_nifti(path).data
    try:
        if path.suffix.lower() in TIFF_SUFFIXES:
            import tifffile

            return tifffile.imread(path)
        import imageio.v3 as iio

        return np.asarray(iio.imread(path))
    except Exception as error:  # readers raise many types for bad files
        codec = missing_codec(path, error)
        raise codec or SegDLError(f"Could not read '{path}' as an image: {error}") from error


def read_labels(path: str | os.PathLike, colours: bool = False) -> np.ndarray:
    """Read a label image: one value per pixel (class values or object IDs).

    A label file saved in colour (RGB or RGBA, as many tools export masks) is refused with the
    reason, unless its channels are all equal (a grey mask stored as RGB: one channel is
    taken). With ``colours``, a colour label image is converted on purpose: black is 0 and
    every other colour a value 1..K, in the order of :func:`colour_values`.
    """
    path = Path(path)
    labels = read_image(path)
    if labels.ndim != 3 or labels.shape[-1] not in (3, 4):
        return labels
    rgb = labels[..., :3]
    if labels.shape[-1] == 4 and not np.all(labels[..., 3] == labels[..., 3].flat[0]):
        raise SegDLError(
            f"Label file '{path}' has a transparency channel that varies; save the labels "
            "without transparency (one value per pixel)."
        )
    if np.all(rgb == rgb[..., :1]):
        return np.ascontiguousarray(rgb[..., 0])
    if not colours:
        raise SegDLError(
            f"Label file '{path}' is a colour image: label files hold one value per pixel "
            "(0 = background, then class values or object IDs). Save the mask as a grey or "
            "indexed image, or convert it on purpose (`--colour-labels`: black = 0, each "
            "other colour one value)."
        )
    return colour_values(rgb)[0]


def colour_values(rgb: np.ndarray) -> tuple[np.ndarray, dict]:
    """Colour labels (Y, X, 3) as values: black is 0, the other colours 1..K in sorted order.

    Returns the label image (uint8, or uint16 above 255 colours) and ``{value: (r, g, b)}``.
    """
    colours, inverse = np.unique(rgb.reshape(-1, 3), axis=0, return_inverse=True)
    # np.unique sorts the colours, so black, where there is any, comes first and becomes 0
    order = np.arange(len(colours)) + (0 if not colours[0].any() else 1)
    dtype = np.uint8 if order.max(initial=0) <= 255 else np.uint16
    values = order[inverse.ravel()].reshape(rgb.shape[:2]).astype(dtype)
    mapping = {
        int(v): tuple(int(c) for c in colour) for v, colour in zip(order, colours, strict=True)
    }
    return values, mapping


def write_tiff(path: str | os.PathLike, array: np.ndarray, metadata: dict | None = None) -> Path:
    """Write an array (labels, a preprocessed image, probabilities) as a zlib-compressed TIFF
    atomically: temp file, then rename.

    ``metadata`` (JSON-ready) is stored in the TIFF description, as tifffile's shaped metadata.
    """
    import tifffile

    path = Path(path)
    writable_folder(path.parent, "images")
    with atomic_write(path, "the image") as temp:
        tifffile.imwrite(temp, array, compression="zlib", metadata=metadata or {})
    return path


def write_csv(path: str | os.PathLike, columns, rows) -> Path:
    """Write a table as CSV atomically (a header row of ``columns``, then ``rows``)."""
    import csv

    path = Path(path)
    with (
        atomic_write(path, "the table") as temp,
        open(temp, "w", newline="", encoding="utf-8") as file,
    ):
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows(rows)
    return path
