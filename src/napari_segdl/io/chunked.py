"""Images larger than memory: zarr stores and TIFFs opened lazily, results written chunk by chunk."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from ..core.errors import SegDLError
from ..core.paths import atomic_write, writable_folder
from .files import TIFF_SUFFIXES

#: TIFFs with more pixels than this are predicted chunk by chunk instead of in memory.
LAZY_PIXELS = 64 * 1024**2


def is_zarr(path: Path) -> bool:
    return path.suffix.lower() == ".zarr" and path.is_dir()


def wants_lazy(path: Path) -> bool:
    """True for zarr stores and for TIFFs too big to predict in memory comfortably."""
    if is_zarr(path):
        return True
    if path.suffix.lower() not in TIFF_SUFFIXES:
        return False
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            return int(np.prod(tif.series[0].shape)) > LAZY_PIXELS
    except Exception:  # a damaged TIFF: the eager reader reports it with its name
        return False


def open_lazy(path: str | os.PathLike):
    """A dask array of a zarr store or a TIFF (read tile by tile through tifffile's zarr store)."""
    import dask.array as da

    path = Path(path)
    try:
        if is_zarr(path):
            return da.from_zarr(str(path))
        import tifffile
        import zarr

        store = tifffile.imread(path, aszarr=True)
        return da.from_zarr(zarr.open(store, mode="r"))
    except Exception as error:  # readers raise many types for damaged stores
        raise SegDLError(f"Could not open '{path}' lazily: {error}") from error


def write_lazy(path: str | os.PathLike, array) -> Path:
    """Write a dask array chunk by chunk, atomically: a zarr store (``.zarr``) or a TIFF.

    Only a few chunks are in memory at once; the result appears under ``path`` when complete.
    """
    import dask.array as da

    path = Path(path)
    writable_folder(path.parent, "images")
    with atomic_write(path, "the image") as temp:
        temp.unlink()  # the writers create it: a zarr store is a folder
        if path.suffix.lower() == ".zarr":
            da.to_zarr(array, str(temp))
        else:
            import tifffile

            out = tifffile.memmap(temp, shape=array.shape, dtype=array.dtype, bigtiff=True)
            da.store(array, out, lock=True)
            out.flush()
            del out
        if path.is_dir():  # os.replace cannot put a store over a folder
            shutil.rmtree(path)
    return path
