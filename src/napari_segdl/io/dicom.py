"""DICOM series (a folder of ``.dcm`` slices) as one volume, with pydicom.

The slices are ordered by their position along the slice normal (from ``ImagePositionPatient``
and ``ImageOrientationPatient``; ``InstanceNumber`` when positions are missing), their stored
values mapped to real units (``RescaleSlope``/``RescaleIntercept``: Hounsfield units for CT),
and the spacing is the distance between slice positions and ``PixelSpacing``. A folder mixing
series is refused, naming them. No patient identifiers are copied into the layer's metadata.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.errors import SegDLError
from .base import DECODE_ERRORS, Capture, unreadable

DICOM_SUFFIXES = (".dcm",)


def dicom_files(folder: Path) -> list[Path]:
    """The ``.dcm`` files of a folder, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in DICOM_SUFFIXES)


def _headers(files: list[Path]) -> list:
    import pydicom
    from pydicom.errors import InvalidDicomError

    headers = []
    for path in files:
        try:
            headers.append((path, pydicom.dcmread(path, stop_before_pixels=True)))
        except (InvalidDicomError, *DECODE_ERRORS) as error:
            raise SegDLError(
                f"'{path}' is not a DICOM file pydicom can read ({error}); remove it from the "
                "series folder."
            ) from error
    return headers


def _one_series(folder: Path, headers: list) -> None:
    series: dict[str, list] = {}
    for _, ds in headers:
        series.setdefault(str(getattr(ds, "SeriesInstanceUID", "unknown")), []).append(ds)
    if len(series) > 1:
        described = "; ".join(
            f"{getattr(items[0], 'SeriesDescription', '') or uid} ({len(items)} files)"
            for uid, items in series.items()
        )
        raise SegDLError(
            f"'{folder}' mixes {len(series)} DICOM series: {described}. Put each series in a "
            "folder of its own and open that folder."
        )


def _positions(headers: list) -> np.ndarray | None:
    """Each slice's position along the slice normal, or None when the headers lack it."""
    try:
        orientation = np.asarray(headers[0][1].ImageOrientationPatient, dtype=float)
        normal = np.cross(orientation[:3], orientation[3:])
        return np.array(
            [np.dot(np.asarray(ds.ImagePositionPatient, float), normal) for _, ds in headers]
        )
    except (AttributeError, ValueError, TypeError):
        return None


def read_dicom_folder(folder: str | os.PathLike) -> Capture:
    """A folder holding one DICOM series as a (Z, Y, X) volume with its spacing."""
    folder = Path(folder)
    files = dicom_files(folder)
    if not files:
        raise SegDLError(f"'{folder}' holds no .dcm files.")
    headers = _headers(files)
    _one_series(folder, headers)
    positions = _positions(headers)
    if positions is not None:
        order = np.argsort(positions, kind="stable")
    else:
        order = np.argsort([int(getattr(ds, "InstanceNumber", 0) or 0) for _, ds in headers])
    headers = [headers[i] for i in order]
    slices = [_pixels(path) for path, _ in headers]
    shapes = {s.shape for s in slices}
    if len(shapes) > 1:
        raise SegDLError(
            f"The slices of '{folder}' have different sizes {sorted(shapes)}: not one series."
        )
    volume = np.stack(slices)
    first = headers[0][1]
    rows, columns = _pixel_spacing(first)
    z = _slice_spacing(positions[order] if positions is not None else None, first)
    scale = (z, rows, columns) if all(v > 0 for v in (z, rows, columns)) else None
    metadata = {
        "source": str(folder),
        "format": "DICOM",
        "modality": str(getattr(first, "Modality", "")) or None,
        "series_description": str(getattr(first, "SeriesDescription", "")) or None,
        "series_uid": str(getattr(first, "SeriesInstanceUID", "")) or None,
        "manufacturer": str(getattr(first, "Manufacturer", "")) or None,
        "slices": len(slices),
        "spacing": list(scale) if scale else None,
        "slice_thickness": _number(getattr(first, "SliceThickness", None)),
        "orientation": [float(v) for v in getattr(first, "ImageOrientationPatient", [])] or None,
    }
    if scale is None:
        metadata["warning"] = "the series has no usable voxel spacing; shown as 1 per voxel"
    return Capture(volume, folder.name, False, metadata, scale, ("z", "y", "x"))


def _pixels(path: Path) -> np.ndarray:
    """A slice's values in real units (rescale slope and intercept applied)."""
    import pydicom

    try:
        ds = pydicom.dcmread(path)
        values = ds.pixel_array
    except DECODE_ERRORS as error:
        raise unreadable(path, error) from error
    except (RuntimeError, NotImplementedError) as error:  # compressed without its decoder
        raise SegDLError(
            f"'{path}' is compressed in a way pydicom cannot decode here ({error}); install "
            "pydicom's decoders (pip install pylibjpeg pylibjpeg-libjpeg) and try again."
        ) from error
    if values.ndim != 2:
        raise SegDLError(f"'{path}' holds {values.shape} pixels, not one grey slice.")
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    if slope != 1 or not float(intercept).is_integer():
        return (values * slope + intercept).astype(np.float32)
    shifted = values.astype(np.int32) + int(intercept)
    small = shifted.size == 0 or (shifted.min() >= -(2**15) and shifted.max() < 2**15)
    return shifted.astype(np.int16) if small else shifted


def _pixel_spacing(ds) -> tuple[float, float]:
    spacing = getattr(ds, "PixelSpacing", None)
    if spacing is None or len(spacing) != 2:
        return 0.0, 0.0
    return float(spacing[0]), float(spacing[1])


def _slice_spacing(positions: np.ndarray | None, ds) -> float:
    if positions is not None and len(positions) > 1:
        steps = np.diff(positions)
        return round(float(np.median(np.abs(steps))), 6)
    return (
        _number(getattr(ds, "SpacingBetweenSlices", None))
        or _number(getattr(ds, "SliceThickness", None))
        or 0.0
    )


def _number(value) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
