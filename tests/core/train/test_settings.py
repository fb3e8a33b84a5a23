"""A model's training settings read back into a TrainConfig: train again in one call."""

import pytest

from helpers import TINY
from napari_segdl import load_model
from napari_segdl.core.bundle import ModelInfo
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.train.config import TrainConfig
from napari_segdl.core.train.settings import settings_of


def test_a_trained_model_gives_back_the_settings_it_was_trained_with(trained_model):
    settings = settings_of(trained_model)
    assert isinstance(settings, TrainConfig)
    for name, value in {**TINY, "epochs": 3}.items():
        assert getattr(settings, name) == value, name
    assert settings.mode == trained_model.info.training["mode"]


def test_the_bundled_model_of_an_earlier_version_reads_back():
    settings = settings_of(load_model("nuclei"))
    assert (settings.arch, settings.filters, settings.depth) == ("unet", 16, 4)
    assert settings.mode == "instance" and settings.patch == 256
    assert settings.checkpoint_dir is None  # the training machine's folder is not kept


def test_a_model_without_a_training_record_is_refused():
    info = ModelInfo("unet", {"depth": 2}, {"mode": "dense"}, 1, {}, 32)
    with pytest.raises(SegDLError, match="records no training settings"):
        settings_of(info)
