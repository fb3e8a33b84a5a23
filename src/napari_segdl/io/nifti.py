"""NIfTI volumes (``.nii``, ``.nii.gz``) in and out, with nibabel.

A volume opens in one orientation whatever its file stores: nibabel's closest canonical (RAS+)
axes, laid out for napari as (Z, Y, X): z from inferior to superior, y from anterior (top row)
to posterior, x towards the patient's right; the voxel spacing is the layer's scale and the
header's key fields are in its metadata. A prediction made on that grid is
written back in the source file's own orientation with the source's affine, so it overlays the
scan in any medical viewer.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.errors import SegDLError
from ..core.paths import atomic_write
from .base import DECODE_ERRORS, Capture, unreadable

NIFTI_SUFFIXES = (".nii", ".nii.gz")


def is_nifti(path: str | os.PathLike) -> bool:
    return os.fspath(path).lower().endswith(NIFTI_SUFFIXES)


def nifti_stem(path: str | os.PathLike) -> str:
    """The file name without ``.nii`` or ``.nii.gz``."""
    name = Path(path).name
    return name[: -len(".nii.gz")] if name.lower().endswith(".nii.gz") else Path(name).stem


def _load(path: Path):
    import nibabel as nib

    if not path.is_file():
        raise SegDLError(f"'{path}' does not exist.")
    try:
        image = nib.load(path)
    except (nib.filebasedimages.ImageFileError, *DECODE_ERRORS) as error:
        raise SegDLError(
            f"'{path}' is not a NIfTI volume nibabel can read ({error}); re-export it as .nii or "
            ".nii.gz."
        ) from error
    if not 2 <= len(image.shape) <= 4:
        raise SegDLError(
            f"'{path}' has {len(image.shape)} axes (shape {image.shape}); this reader opens 3D "
            "volumes and 4D series (X, Y, Z, T): split the other axes first."
        )
    return image


def _to_layer(array: np.ndarray) -> np.ndarray:
    """Canonical (i, j, k[, t]) voxels as a napari layer ([T,] Z, Y, X), anterior at the top."""
    axes = (3, 2, 1, 0) if array.ndim == 4 else (2, 1, 0)[3 - array.ndim :]
    layer = np.transpose(array, axes)
    return np.flip(layer, -2) if layer.ndim >= 2 else layer


def _from_layer(layer: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_to_layer`."""
    array = np.flip(layer, -2)
    axes = (3, 2, 1, 0) if array.ndim == 4 else (2, 1, 0)[3 - array.ndim :]
    return np.transpose(array, np.argsort(axes))


def read_nifti(path: str | os.PathLike) -> Capture:
    """A NIfTI volume as a 3D (or 4D: T, Z, Y, X) image with its spacing and header fields."""
    import nibabel as nib

    path = Path(path)
    image = _load(path)
    try:  # a truncated .nii.gz fails here (reading the voxels), not at the header
        canonical = nib.as_closest_canonical(image) if len(image.shape) >= 3 else image
        voxels = np.asanyarray(canonical.dataobj)
    except DECODE_ERRORS as error:
        raise unreadable(path, error) from error
    data = np.ascontiguousarray(_to_layer(voxels))
    header = canonical.header
    spacing = _layer_spacing(path, image)
    missing = spacing is None
    scale = tuple(1.0 for _ in range(min(len(image.shape), 3))) if missing else spacing
    if data.ndim == 4:
        scale = (1.0, *scale)
    space, time = header.get_xyzt_units()
    metadata = {
        "source": str(path),
        "format": "NIfTI-2" if isinstance(header, nib.Nifti2Header) else "NIfTI-1",
        "spacing": list(scale[-3:]) if not missing else None,
        "spacing_unit": space if space != "unknown" else None,
        "orientation_on_disk": "".join(nib.aff2axcodes(image.affine)),
        "affine": np.asarray(image.affine).round(6).tolist(),
        "shape_on_disk": list(image.shape),
        "datatype": str(image.get_data_dtype()),
        "description": _text(header.get("descrip")),
        "qform_code": int(header["qform_code"]),
        "sform_code": int(header["sform_code"]),
    }
    if missing:
        zooms = [float(z) for z in _stored_zooms(path, image)]
        metadata["warning"] = (
            f"the file's voxel spacing is missing or zero ({zooms}); shown as 1 per voxel"
        )
    if data.ndim == 4:
        metadata["time_unit"] = time if time != "unknown" else None
    labels = ("t", "z", "y", "x")[-data.ndim :]
    return Capture(data, nifti_stem(path), False, metadata, scale, labels)


def nifti_spacing(path: str | os.PathLike) -> tuple[float, ...] | None:
    """The voxel spacing of a NIfTI file on the layer's grid ((Z,) Y, X, as :func:`read_nifti`
    lays it out), from its header alone; None when it is missing or zero."""
    path = Path(path)
    return _layer_spacing(path, _load(path))


def _layer_spacing(path: Path, image) -> tuple[float, ...] | None:
    """The header's spatial zooms, in canonical axis order and reversed to (Z,) Y, X."""
    import nibabel as nib

    stored = _stored_zooms(path, image)
    if not all(np.isfinite(z) and z > 0 for z in stored):
        return None
    zooms = [round(float(z), 6) for z in image.header.get_zooms()[: len(stored)]]
    if len(stored) == 3:  # canonical axis order, as nib.as_closest_canonical reorders them
        canonical = [0.0] * 3
        for axis, (target, _) in enumerate(nib.orientations.io_orientation(image.affine)):
            canonical[int(target)] = zooms[axis]
        zooms = canonical
    return tuple(zooms[::-1])


def _stored_zooms(path: Path, image) -> list[float]:
    """The spacing the file stores (nibabel shows a stored 0 as 1)."""
    import nibabel as nib

    with nib.openers.ImageOpener(path) as handle:
        raw = type(image.header).from_fileobj(handle, check=False)
    return [float(z) for z in raw["pixdim"][1 : min(len(image.shape), 3) + 1]]


def _text(value) -> str | None:
    if value is None:
        return None
    text = np.asarray(value).tobytes().split(b"\0")[0].decode("latin-1").strip()
    return text or None


def write_nifti(
    array, path: str | os.PathLike, like: str | os.PathLike | None = None, spacing=None
) -> Path:
    """Write a layer-grid array ([T,] Z, Y, X) as NIfTI: in the orientation and with the affine
    of the volume ``like`` (the source it was predicted on), or with ``spacing`` (z, y, x) and
    no orientation when there is no source."""
    import nibabel as nib

    path = Path(path)
    if not is_nifti(path):
        raise SegDLError(f"NIfTI files end in .nii or .nii.gz; received '{path}'.")
    array = np.asarray(array)
    if array.dtype == bool:
        array = array.astype(np.uint8)
    if array.dtype == np.int64 or array.dtype == np.uint64:
        array = array.astype(np.int32 if array.max(initial=0) < 2**31 else np.float64)
    canonical = _from_layer(array)
    if like is not None:
        source = _load(Path(like))
        if tuple(source.shape[:3]) != _disk_shape(source, canonical.shape[:3]):
            raise SegDLError(
                f"The prediction has shape {array.shape} but '{like}' holds a volume of shape "
                f"{source.shape}: write it beside the volume it was predicted on."
            )
        wanted = nib.orientations.io_orientation(source.affine)
        back = nib.orientations.ornt_transform(nib.orientations.axcodes2ornt("RAS"), wanted)
        data = nib.orientations.apply_orientation(canonical, back)
        out = nib.Nifti1Image(data, source.affine)
        out.header.set_xyzt_units(*source.header.get_xyzt_units())
    else:
        zooms = (spacing or (1.0, 1.0, 1.0))[::-1]
        out = nib.Nifti1Image(canonical, np.diag([*zooms, 1.0]))
    out.set_data_dtype(canonical.dtype)
    content = out.to_bytes()
    if path.name.lower().endswith(".gz"):
        import gzip

        content = gzip.compress(content, compresslevel=6)
    with atomic_write(path, "the NIfTI volume") as target:
        target.write_bytes(content)
    return path


def _disk_shape(source, canonical_shape) -> tuple[int, ...]:
    """The shape on disk of a canonical-oriented volume of ``canonical_shape``."""
    import nibabel as nib

    order = nib.orientations.io_orientation(source.affine)[:, 0].astype(int)
    return tuple(canonical_shape[axis] for axis in order)
