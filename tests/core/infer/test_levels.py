"""The instance post-processing levels: tuned per model, and overridden where asked."""

import numpy as np
import pytest
from skimage.draw import disk

from helpers import untrained_model
from napari_segdl import SegDLError, predict
from napari_segdl.core.infer.engine import instance_options


@pytest.fixture(scope="module")
def instance_model():
    """An untrained instance model with tuned levels recorded: the levels are read, not
    learned."""
    image = np.random.default_rng(0).normal(40, 8, (96, 96)).astype(np.float32)
    for centre in [(20, 20), (20, 60), (60, 30), (70, 75)]:
        image[disk(centre, 8, shape=image.shape)] += 60
    levels = {"seed": 0.6, "extent": 0.4, "validation_f1_50": 0.9, "default_f1_50": 0.8}
    return untrained_model(training={"mode": "instance", "instance_levels": levels}), image


def test_given_levels_win_over_the_tuned_ones(instance_model):
    model, image = instance_model
    tuned = model.info.training["instance_levels"]
    assert instance_options(model)["seed"] == tuned["seed"]
    assert instance_options(model, {"seed": 0.9})["seed"] == 0.9
    assert instance_options(model, {"seed": 0.9})["extent"] == tuned["extent"]
    strict = predict(model, image, seed_level=0.99, extent_level=0.99)
    assert strict.max() <= predict(model, image).max()


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.1])
def test_levels_outside_zero_to_one_are_refused(instance_model, level):
    model, image = instance_model
    with pytest.raises(SegDLError, match=r"seed_level must be between 0\.01 and 0\.99"):
        predict(model, image, seed_level=level)


def test_levels_are_for_instance_models():
    with pytest.raises(SegDLError, match="Seed and extent levels are for instance models"):
        predict(untrained_model(), np.zeros((32, 32), np.float32), extent_level=0.4)


def test_the_flow_check_is_given_to_flow_models_only(instance_model):
    model, image = instance_model
    with pytest.raises(
        SegDLError, match=r"flow check is for models with the flow head; .* boundary"
    ):
        predict(model, image, flow_error=0.8)
    with pytest.raises(SegDLError, match=r"flow_error must be between 0\.01 and 4"):
        predict(model, image, flow_error=5.0)
    flow = untrained_model(training={"mode": "instance"}, flow=True)
    assert instance_options(flow, {"flow_error": 2.0})["max_error"] == 2.0
    kept = predict(flow, image, flow_error=4.0, extent_level=0.2)
    assert kept.max() >= predict(flow, image, extent_level=0.2).max()
