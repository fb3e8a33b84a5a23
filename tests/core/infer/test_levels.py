"""The instance post-processing levels: tuned per model, and overridden where asked."""

import numpy as np
import pytest
from skimage.draw import disk

from helpers import TINY
from napari_segdl import SegDLError, predict, train
from napari_segdl.core.infer.engine import instance_options


@pytest.fixture(scope="module")
def instance_model():
    image = np.random.default_rng(0).normal(40, 8, (96, 96)).astype(np.float32)
    labels = np.zeros((96, 96), np.uint16)
    for number, centre in enumerate([(20, 20), (20, 60), (60, 30), (70, 75)], 1):
        rr, cc = disk(centre, 8, shape=labels.shape)
        image[rr, cc] += 60
        labels[rr, cc] = number
    return train(image, labels, mode="instance", epochs=6, **TINY), image


@pytest.mark.slow
def test_given_levels_win_over_the_tuned_ones(instance_model):
    model, image = instance_model
    tuned = model.info.training["instance_levels"]
    assert instance_options(model)["seed"] == tuned["seed"]
    assert instance_options(model, {"seed": 0.9})["seed"] == 0.9
    assert instance_options(model, {"seed": 0.9})["extent"] == tuned["extent"]
    strict = predict(model, image, seed_level=0.99, extent_level=0.99)
    assert strict.max() <= predict(model, image).max()


@pytest.mark.slow
@pytest.mark.parametrize("level", [0, 1, 1.5, -0.1])
def test_levels_outside_zero_to_one_are_refused(instance_model, level):
    model, image = instance_model
    with pytest.raises(SegDLError, match=r"seed_level must be between 0\.01 and 0\.99"):
        predict(model, image, seed_level=level)


@pytest.mark.slow
def test_levels_are_for_instance_models(trained_model):
    with pytest.raises(SegDLError, match="Seed and extent levels are for instance models"):
        predict(trained_model, np.zeros((32, 32), np.float32), extent_level=0.4)
