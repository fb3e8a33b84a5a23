"""Augmentation of training patches: the same geometry for image and labels, intensity for images."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ..labels.heads import turn_vectors


def flip_rotate(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, vectors=False):
    """A random multiple of 90° and a random mirror in-plane, the same for image and labels;
    volumes (Z, Y, X[, C]) are also flipped in z half of the time. With ``vectors`` the last
    two channels of ``x`` are a flow (dy, dx), turned and mirrored with the pixels."""
    plane = (y.ndim - 2, y.ndim - 1)
    k = int(rng.integers(4))
    x, y = np.rot90(x, k, axes=plane), np.rot90(y, k, axes=plane)
    mirror = bool(rng.integers(2))
    if mirror:
        x, y = np.flip(x, plane[1]), np.flip(y, plane[1])
    if vectors:
        x = turn_vectors(x, k, mirror)
    if y.ndim == 3 and rng.integers(2):
        x, y = x[::-1], y[::-1]
    return x, y


def intensity(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random contrast, brightness and gamma per channel, and a little Gaussian noise.

    ``x`` is a normalised (about [0, 1]) float patch (Y, X, C); labels are untouched.
    """
    channels = x.shape[-1]
    contrast = rng.uniform(0.75, 1.33, channels).astype(np.float32)
    brightness = rng.uniform(-0.1, 0.1, channels).astype(np.float32)
    gamma = np.exp(rng.uniform(-0.3, 0.3, channels)).astype(np.float32)
    shifted = np.clip(x, 0, None) ** gamma + np.minimum(x, 0)  # gamma on the positive part
    noise = rng.normal(0, rng.uniform(0, 0.03), x.shape).astype(np.float32)
    return shifted * contrast + brightness + noise


def deform(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, vectors=False):
    """A small random affine (rotation, scale, shear) and elastic deformation.

    The same displacement moves the image (linear interpolation) and the labels (nearest
    neighbour, so values stay painted values); both are mirrored at the patch border. A volume
    (Z, Y, X, C) is deformed in-plane, every slice alike. With ``vectors`` the last two
    channels of a 2D ``x`` are a flow (dy, dx) down a field's gradient: they turn as a
    gradient does (by the transposed Jacobian of the displacement) and stay unit vectors where
    the labels are above 0, zero elsewhere.
    """
    if y.ndim == 3:
        coords = _displacement(y.shape[1:], rng)
        moved = [_moved(x[z], y[z], coords) for z in range(y.shape[0])]
        return np.stack([m[0] for m in moved]), np.stack([m[1] for m in moved])
    coords = _displacement(y.shape, rng)
    x, y = _moved(x, y, coords)
    if vectors:
        x[..., -2:] = _turned(x[..., -2:], coords, y > 0)
    return x, y


def _turned(flow: np.ndarray, coords: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """A flow sampled at ``coords`` turned as gradients turn, unit length ``inside``."""
    jacobian = np.stack([np.stack(np.gradient(c), -1) for c in coords], -2)  # (Y, X, i, j)
    turned = np.einsum("yxij,yxi->yxj", jacobian, flow)
    norm = np.linalg.norm(turned, axis=-1, keepdims=True)
    keep = inside[..., None] & (norm > 1e-6)
    return np.where(keep, turned / np.where(keep, norm, 1.0), 0.0).astype(np.float32)


def _displacement(shape, rng: np.random.Generator) -> np.ndarray:
    """Where each pixel of a (Y, X) patch samples from: a random affine and elastic field."""
    height, width = shape
    angle = rng.uniform(-np.pi / 12, np.pi / 12)
    scale = np.exp(rng.uniform(-0.15, 0.15))
    shear = rng.uniform(-0.1, 0.1)
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    matrix = np.array([[cos, -sin + shear], [sin, cos]], dtype=np.float32)
    grid = np.mgrid[0:height, 0:width].astype(np.float32)
    centre = np.array([(height - 1) / 2, (width - 1) / 2], dtype=np.float32)[:, None, None]
    coords = np.einsum("ij,jyx->iyx", matrix, grid - centre) + centre
    strength, smooth = 0.02 * min(height, width), max(min(height, width) / 16, 2)
    for axis in range(2):  # elastic: smooth random displacements of a few pixels
        field = ndi.gaussian_filter(rng.standard_normal((height, width)), smooth)
        coords[axis] += (strength / (np.abs(field).max() + 1e-6) * field).astype(np.float32)
    return coords


def _moved(x: np.ndarray, y: np.ndarray, coords: np.ndarray):
    moved = np.stack(
        [
            ndi.map_coordinates(x[..., c], coords, order=1, mode="mirror")
            for c in range(x.shape[-1])
        ],
        axis=-1,
    )
    labels = ndi.map_coordinates(y, coords, order=0, mode="mirror")
    return moved.astype(np.float32, copy=False), labels.astype(y.dtype, copy=False)
