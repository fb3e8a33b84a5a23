"""What many tests share: a tiny network's hyper-parameters, synthetic blobs, notifications."""

import numpy as np
import pytest

from napari_segdl.core.backend import wanted_backend

#: For tests of TensorFlow's own behaviour (its log lines, its distribution strategies).
tensorflow_only = pytest.mark.skipif(
    wanted_backend() != "tensorflow", reason="TensorFlow's own behaviour: its backend only"
)

#: Hyper-parameters of a network small enough to train in seconds on two CPU cores.
TINY = {
    "filters": 8,
    "depth": 2,
    "patch": 32,
    "batch": 4,
    "steps_per_epoch": 6,
    "jit_compile": False,
}


def untrained_model(
    channels: int = 1, arch: str = "unet", training: dict | None = None, flow: bool = False
):
    """A two-class U-Net (or SegNet) of depth 2 and 4 filters, untrained: enough to test what
    runs it. With a ``training`` record holding ``mode`` "instance", an instance model
    (background, object, boundary) with that record; ``flow`` adds the flow head."""
    from napari_segdl.core.bundle import ModelInfo, SegModel
    from napari_segdl.core.models import build_model

    instance = (training or {}).get("mode") == "instance"
    classes = {"mode": "dense", "values": [0, 1], "names": ["0", "1"]}
    if instance:
        names = ["background", "object", "boundary"]
        classes = {"mode": "instance", "values": [0, 1, 2], "names": names, "dtype": "uint16"}
    info = ModelInfo(
        arch=arch,
        arch_params={"depth": 2, "filters": 4, **({"flow_head": True} if flow else {})},
        classes=classes,
        channels=channels,
        normalization={"method": "percentile", "low": 1.0, "high": 99.8},
        patch=32,
        training=dict(training or {}),
    )
    network = build_model(arch, channels, len(classes["values"]), depth=2, filters=4,
                          **({"flow_head": True} if flow else {}))  # fmt: skip
    return SegModel(network, info)


def make_blobs(shape=(96, 128), count=12, value=255, seed=0):
    """A noisy image of bright discs and its dense labels (0 = background, ``value`` = disc)."""
    from skimage.draw import disk

    rng = np.random.default_rng(seed)
    image = rng.normal(40, 8, shape).astype(np.float32)
    labels = np.zeros(shape, np.uint8)
    for _ in range(count):
        centre = rng.integers(8, shape[0] - 8), rng.integers(8, shape[1] - 8)
        rr, cc = disk(centre, 6, shape=shape)
        image[rr, cc] += 60
        labels[rr, cc] = value
    return image, labels


def error_messages() -> list[str]:
    """The error notifications napari has shown so far."""
    from napari.utils.notifications import notification_manager

    return [str(n.message) for n in notification_manager.records if n.severity == "error"]


def touching_discs(dtype=np.uint16) -> np.ndarray:
    """Two discs of radius 10 that touch, IDs 1 and 2, on a 40 x 60 background."""
    from skimage.draw import disk

    labels = np.zeros((40, 60), dtype)
    for number, centre in enumerate([(20, 20), (20, 37)], 1):
        rr, cc = disk(centre, 10, shape=labels.shape)
        labels[rr, cc] = number
    return labels


def disc_grid(spacing: int, radius: int, size: int = 128):
    """A noisy grey image of bright discs on a grid (``spacing`` apart) and their IDs."""
    from skimage.draw import disk

    rng = np.random.default_rng(0)
    image = rng.normal(40, 8, (size, size)).astype(np.float32)
    labels = np.zeros((size, size), np.uint16)
    centres = [(y, x) for y in range(12, size, spacing) for x in range(12, size, spacing)]
    for number, centre in enumerate(centres, 1):
        rr, cc = disk(centre, radius, shape=labels.shape)
        image[rr, cc] += 60
        labels[rr, cc] = number
    return image, labels


def make_balls(shape=(12, 48, 48), count=5, seed=0):
    """A noisy volume of bright ellipsoids (flatter in z, as in microscopy stacks) and their
    instance labels 1..count."""
    rng = np.random.default_rng(seed)
    image = rng.normal(40, 8, shape).astype(np.float32)
    labels = np.zeros(shape, np.uint16)
    zz, yy, xx = np.indices(shape)
    for i in range(1, count + 1):
        c = [
            rng.integers(3, shape[0] - 3),
            rng.integers(8, shape[1] - 8),
            rng.integers(8, shape[2] - 8),
        ]
        inside = ((zz - c[0]) / 2.5) ** 2 + ((yy - c[1]) / 6) ** 2 + ((xx - c[2]) / 6) ** 2 < 1
        inside &= labels == 0
        image[inside] += 60
        labels[inside] = i
    return image, labels


def gone(pid: int, within: float = 10.0) -> bool:
    """True once no process ``pid`` exists (waiting up to ``within`` seconds)."""
    import os
    import time

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def sample_train_dock(viewer, epochs=1, patch=64, filters=8, depth=2):
    """The nuclei sample opened and a Train dock set to its image and masks, with a tiny
    network."""
    viewer.open_sample("napari-segdl", "nuclei")
    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    row = train.pairs.rows[0]
    row.image.value, row.labels_layer.value = (
        viewer.layers["nuclei"],
        viewer.layers["nuclei masks"],
    )
    train.epochs.value, train.patch.value = epochs, patch
    train.filters.value, train.depth.value = filters, depth
    return train
