"""Training memory: the estimate against a measured peak, 3D settings chosen for the volume and
the machine, and settings over the budget refused before anything trains."""

import json
import subprocess
import sys

import numpy as np
import pytest

from napari_segdl import train
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.train.config import TrainConfig
from napari_segdl.core.train.memory import training_bytes, volume_settings

PEAK = """
import json, resource, sys
import numpy as np
import napari_segdl as sd
rng = np.random.default_rng(0)
volume = rng.normal(size=(32, 128, 128)).astype(np.float32)
labels = np.zeros(volume.shape, np.uint8)
labels[4:20, 20:60, 20:60], labels[10:28, 70:110, 70:110] = 1, 2
settings = dict(dims=3, mode="instance", filters=16, batch=2, patch_z=16, patch=128, depth=3,
                epochs=1, steps_per_epoch=2, val_fraction=0.0, mixed_precision="off",
                jit_compile=False, spacing=(2.2, 1, 1))
model = sd.train(volume, labels, **settings)
print(json.dumps({"peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "estimate": model.info.training["memory"]["estimate_gib"] * 2**30}))
"""


@pytest.mark.slow
def test_the_estimate_is_within_a_factor_of_two_of_the_measured_peak():
    done = subprocess.run(
        [sys.executable, "-c", PEAK], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert 0.5 < figures["estimate"] / figures["peak"] < 2.0, figures


def test_the_2d_defaults_of_a_3d_network_are_refused_with_the_estimate(monkeypatch):
    """The 2D defaults given for 100³ voxels (patch 16×256×256, batch 8, 32 filters) on a
    24 GB machine; given, they are kept, so the run is refused before anything trains."""
    monkeypatch.setenv("NAPARI_SEGDL_MEMORY_GIB", "18")
    volume = np.zeros((100, 100, 100), np.float32)
    labels = np.zeros(volume.shape, np.uint16)
    labels[40:60, 40:60, 40:60] = 1
    with pytest.raises(SegDLError, match=r"need about 25\.\d GiB .* lower the patch, patch_z"):
        train(volume, labels, dims=3, mode="instance", patch=256, patch_z=16, batch=8, filters=32)


@pytest.mark.parametrize(
    ("gib", "expected"),
    [
        (18, {"depth": 3, "filters": 16, "batch": 2, "patch": 64, "patch_z": 16}),
        (1.1, {"depth": 3, "filters": 16, "batch": 1, "patch": 64, "patch_z": 16}),
    ],
)
def test_3d_settings_are_chosen_for_the_volume_and_the_budget(monkeypatch, gib, expected):
    monkeypatch.setenv("NAPARI_SEGDL_MEMORY_GIB", str(gib))
    config = TrainConfig.create(dims=3)
    fitted, chosen = volume_settings(config, (100, 100, 100), spacing=(2.2, 1, 1))
    assert chosen == expected
    assert training_bytes(fitted, {"z_skip": 1}) <= gib * 2**30


def test_settings_the_user_gave_are_kept_and_a_tiny_budget_refuses(monkeypatch):
    monkeypatch.setenv("NAPARI_SEGDL_MEMORY_GIB", "18")
    config = TrainConfig.create(dims=3, depth=4, batch=4)
    _, chosen = volume_settings(config, (40, 300, 300), (2.2, 1, 1), given={"batch", "depth"})
    assert "batch" not in chosen and "depth" not in chosen and chosen["patch"] == 64
    assert volume_settings(config, (40, 300, 300), gpu=True)[1]["patch"] == 128
    monkeypatch.setenv("NAPARI_SEGDL_MEMORY_GIB", "0.5")  # below the runtime alone
    volume, labels = np.zeros((16, 64, 64), np.float32), np.zeros((16, 64, 64), np.uint8)
    labels[4:10, 10:30, 10:30] = 1
    with pytest.raises(SegDLError, match=r"budget is 0\.5 GiB \(NAPARI_SEGDL_MEMORY_GIB=0\.5\)"):
        train(volume, labels, dims=3, depth=2)
    monkeypatch.setenv("NAPARI_SEGDL_MEMORY_GIB", "lots")
    with pytest.raises(SegDLError, match="must be a number of GiB"):
        train(volume, labels, dims=3, depth=2)
