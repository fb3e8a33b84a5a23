import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from helpers import TINY, make_blobs


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


@pytest.fixture
def fresh_session(monkeypatch):
    """No trained or loaded models in the docks' session registry."""
    from napari_segdl._widgets._common import SESSION_MODELS

    monkeypatch.setattr(SESSION_MODELS, "_models", {})
