"""What many tests share: a tiny network's hyper-parameters, synthetic blobs, notifications."""

import numpy as np

#: Hyper-parameters of a network small enough to train in seconds on two CPU cores.
TINY = {
    "filters": 8,
    "depth": 2,
    "patch": 32,
    "batch": 4,
    "steps_per_epoch": 6,
    "jit_compile": False,
}


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
