"""The memory a training run needs, the memory this machine can give it, and 3D settings that
fit: a 3D network trained with the 2D defaults (patches 16×256×256, batch 8, 32 filters) needs
about 26 GB and was killed for lack of memory before its first step.

Measured on the CPU (``bench/memory_3d.py``): the peak resident memory of training is about
0.9 GiB (TensorFlow, the network, the data) plus about 96 bytes per voxel of the batch per
filter of the first level — four times what prediction holds per pixel
(:attr:`~napari_segdl.core.models.geometry.Geometry.bytes_per_pixel`), since training keeps every
activation for the backward pass and their gradients beside them.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace

from ..errors import SegDLError
from ..models import geometry

#: TensorFlow, the network, its optimizer and the run's data, before the first batch.
RUNTIME_BYTES = 2**30
#: Training holds this many times the activations that prediction holds per pixel.
TRAIN_FACTOR = 4
#: The share of the free memory that a run may plan to use.
BUDGET_SHARE = 0.75


def training_bytes(config, arch_params: dict | None = None) -> int:
    """Estimated peak memory of training with ``config`` (bytes)."""
    params = {"depth": config.depth, "filters": config.filters, "dims": config.dims}
    params.update(arch_params or {})
    per_pixel = geometry(config.arch, params).bytes_per_pixel
    voxels = config.batch * config.patch**2 * (config.patch_z if config.dims == 3 else 1)
    return RUNTIME_BYTES + TRAIN_FACTOR * per_pixel * voxels


def memory_budget() -> tuple[int, str]:
    """The bytes a run may plan to use, and where they come from, in words.

    ``NAPARI_SEGDL_MEMORY_GIB`` sets it; otherwise three quarters of the memory free now (Linux:
    ``MemAvailable``; elsewhere the physical memory).
    """
    given = os.environ.get("NAPARI_SEGDL_MEMORY_GIB")
    if given:
        try:
            return int(float(given) * 2**30), f"NAPARI_SEGDL_MEMORY_GIB={given}"
        except ValueError as error:
            raise SegDLError(
                f"NAPARI_SEGDL_MEMORY_GIB must be a number of GiB; received {given!r}."
            ) from error
    free = _free_memory()
    return int(BUDGET_SHARE * free), f"{BUDGET_SHARE:.0%} of the {free / 2**30:.1f} GiB free"


def _free_memory() -> int:
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_memory(config, arch_params: dict | None = None) -> int:
    """Refuse ``config`` when its estimate exceeds the budget, saying what to lower; returns
    the estimate."""
    need = training_bytes(config, arch_params)
    budget, where = memory_budget()
    if need > budget:
        lower = (
            "patch, patch_z, batch or filters" if config.dims == 3 else "patch, batch or filters"
        )
        raise SegDLError(
            f"This training would need about {need / 2**30:.1f} GiB of memory (patch "
            f"{_patch_text(config)}, batch {config.batch}, {config.filters} filters) and the "
            f"budget is {budget / 2**30:.1f} GiB ({where}): lower the {lower} (halving the batch "
            "or the filters halves most of it), or leave them out for a 3D network to choose."
        )
    return need


def volume_settings(config, shape, spacing=None, given=(), gpu: bool = False):
    """``config`` with the 3D settings not in ``given`` chosen for a volume of ``shape``
    (Z, Y, X), its ``spacing`` and this machine's budget: depth 3, 16 filters, batch 2,
    patches of up to 16×64×64 within the volume on a CPU, 32×128×128 on a GPU; then lowered
    (batch, in-plane patch, depth of the patch, filters) until the estimate fits. Measured on
    qcanet (``bench/memory_3d.py``): depth 4 or 32×128×128 patches learnt nothing in two CPU
    minutes, where depth 3 and 16×64×64 did. Returns the new config and the chosen values."""
    from ..models.geometry import z_skip_for
    from .volumes import z_ratio

    budget, _ = memory_budget()
    depth = config.depth if "depth" in given else 3
    z_skip = z_skip_for(z_ratio(spacing), depth)
    params = {"depth": depth, "dims": 3, "z_skip": z_skip}
    grid = geometry(config.arch, {**params, "filters": 8})
    z_grid, xy_grid = grid.z_multiple, grid.size_multiple
    start = {
        "depth": depth,
        "filters": 16,
        "batch": 2,
        "patch": min(128 if gpu else 64, _round_up(max(shape[1:3]), xy_grid)),
        "patch_z": min(_round_up(shape[0], z_grid), _round_up(32 if gpu else 16, z_grid)),
    }
    chosen = {key: value for key, value in start.items() if key not in given}
    config = replace(config, **chosen)
    floors = {"batch": 1, "patch": max(16, 2 * xy_grid), "patch_z": max(2, z_grid), "filters": 8}
    steps = {"patch": xy_grid, "patch_z": z_grid}  # patches shrink by one grid step at a time
    for key in ("batch", "patch", "patch_z", "filters"):
        while (
            key in chosen
            and training_bytes(config, params) > budget
            and getattr(config, key) > floors[key]
        ):
            value = getattr(config, key)
            value = value - steps[key] if key in steps else value // 2
            chosen[key] = value
            config = replace(config, **{key: value})
    return config, chosen


def _round_up(value: int, multiple: int) -> int:
    return max(multiple, math.ceil(value / multiple) * multiple)


def _patch_text(config) -> str:
    side = f"{config.patch}×{config.patch}"
    return f"{config.patch_z}×{side}" if config.dims == 3 else side
