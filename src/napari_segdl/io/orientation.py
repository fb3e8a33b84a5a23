"""EXIF orientation (TIFF tag 274) applied to numpy arrays, so a portrait photo shows as portrait."""

from __future__ import annotations

import numpy as np


def apply_orientation(array, orientation: int | None, yx_axes: tuple[int, int] = (0, 1)):
    """Return ``array`` turned as EXIF ``orientation`` says; a view where numpy allows.

    Parameters
    ----------
    array : array-like
        Pixels as stored in the file, with the rows and columns on ``yx_axes``.
    orientation : int or None
        The EXIF value 1..8; None, 1 or an unknown value leave the array as it is.
    yx_axes : tuple of int
        The row and column axes (default the first two, for (Y, X[, C]) images).

    Returns
    -------
    array-like
        The pixels the right way up. Orientations 5..8 swap the row and column axes.
    """
    y, x = yx_axes
    if orientation == 2:
        return np.flip(array, x)
    if orientation == 3:
        return np.flip(array, (y, x))
    if orientation == 4:
        return np.flip(array, y)
    if orientation == 5:
        return np.swapaxes(array, y, x)
    if orientation == 6:
        return np.rot90(array, k=-1, axes=(y, x))
    if orientation == 7:
        return np.flip(np.swapaxes(array, y, x), (y, x))
    if orientation == 8:
        return np.rot90(array, k=1, axes=(y, x))
    return array


def oriented_shape(height: int, width: int, orientation: int | None) -> tuple[int, int]:
    """(rows, columns) after ``apply_orientation``: 5..8 swap them."""
    return (width, height) if orientation in (5, 6, 7, 8) else (height, width)
