import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

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


@pytest.fixture
def blobs():
    return make_blobs()


@pytest.fixture(scope="session")
def trained_model():
    """One tiny dense model shared by the tests that only need *a* trained model."""
    from napari_segdl import train

    image, labels = make_blobs()
    return train(image, labels, epochs=3, **TINY)


@pytest.fixture(autouse=True)
def _run_log(tmp_path, monkeypatch):
    """Training runs are recorded in a temporary log, never in the user's data folder."""
    monkeypatch.setenv("NAPARI_SEGDL_RUNS", str(tmp_path / "runs.jsonl"))


def error_messages() -> list[str]:
    """The error notifications napari has shown so far."""
    from napari.utils.notifications import notification_manager

    return [str(n.message) for n in notification_manager.records if n.severity == "error"]


@pytest.fixture
def fresh_session(monkeypatch):
    """No trained or loaded models in the docks' session registry."""
    from napari_segdl._widgets._common import SESSION_MODELS

    monkeypatch.setattr(SESSION_MODELS, "_models", {})
