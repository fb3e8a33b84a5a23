"""The distance head's targets and post-processing, and tuning the levels on validation data."""

import numpy as np
import pytest
from skimage.draw import disk

from helpers import TINY, disc_grid, touching_discs
from napari_segdl import evaluate, load_model, predict, train
from napari_segdl.core.labels.instances import (
    distance_targets,
    instance_targets,
    instances_from_probabilities,
)
from napari_segdl.core.train.levels import f1_at_50, objects_from_targets


def test_distance_targets_peak_at_each_centre_and_part_touching_objects():
    labels = touching_discs()
    distance = distance_targets(labels)
    assert distance.dtype == np.float32 and distance.max() == pytest.approx(1.0)
    for number, centre in ((1, (20, 20)), (2, (20, 37))):
        assert distance[labels == number].max() == pytest.approx(1.0)
        assert distance[centre] > 0.8
    assert np.all(distance[labels == 0] == 0)
    rim = instance_targets(labels) == 2
    assert np.all(distance[rim] == 0)  # the rim parts touching objects


def test_distance_peaks_seed_one_object_each():
    labels = touching_discs()
    scores = np.zeros((*labels.shape, 4), np.float32)
    scores[..., 0] = labels == 0
    scores[..., 1] = labels > 0
    scores[..., 3] = distance_targets(labels)
    objects = instances_from_probabilities(scores, min_size=4)
    assert objects.max() == 2
    assert f1_at_50([(objects, labels)]) == 1.0


def test_objects_from_targets_give_back_the_painted_objects():
    labels = touching_discs()
    objects = objects_from_targets(instance_targets(labels))
    assert objects.max() == 2 and f1_at_50([(objects, labels)]) == 1.0


def test_f1_pools_counts_over_pairs():
    one = np.zeros((8, 8), np.uint8)
    one[1:4, 1:4] = 1
    empty = np.zeros((8, 8), np.uint8)
    assert f1_at_50([(one, one), (empty, one)]) == pytest.approx(2 / 3)


@pytest.mark.slow
def test_a_distance_head_trains_tunes_its_levels_and_travels_in_the_bundle(tmp_path):
    image, labels = disc_grid(22, 9)
    params = {**TINY, "patch": 64, "depth": 3}
    model = train(image, labels, mode="instance", instance_head="distance", epochs=20, **params)
    assert model.keras_model.output_shape[-1] == 4 and model.info.arch_params["distance_head"]
    levels = model.info.training["instance_levels"]
    assert {"seed", "extent", "validation_f1_50", "default_f1_50"} <= set(levels)
    assert levels["validation_f1_50"] >= levels["default_f1_50"]
    loaded = load_model(model.save(tmp_path / "distance.keras"))
    assert loaded.info.training["instance_levels"] == levels
    assert evaluate(predict(loaded, image), labels, instance=True)["f1_50"] > 0.8
    assert predict(loaded, image, probabilities=True).shape == (128, 128, 4)


def test_a_mask_is_numbered_object_by_object_slice_by_slice():
    from napari_segdl.core.labels.instances import number_objects

    mask = np.zeros((2, 20, 20), np.uint8)
    mask[0, 2:6, 2:6] = mask[0, 10:14, 10:14] = mask[1, 5:9, 5:9] = 255
    numbered = number_objects(mask)
    assert numbered[0].max() == 2 and numbered[1].max() == 1 and numbered.dtype == np.uint32


@pytest.mark.slow
def test_a_mask_for_an_instance_model_is_refused_with_the_offer_and_numbered_on_request():
    from napari_segdl import SegDLError

    labels = touching_discs()
    labels[labels > 0] = 0
    for centre in [(10, 10), (10, 40), (30, 25)]:
        rr, cc = disk(centre, 5, shape=labels.shape)
        labels[rr, cc] = 255
    image = (labels > 0).astype(np.float32) * 100
    with pytest.raises(SegDLError, match=r"label_components=True \(--label-components"):
        train(image, labels, mode="instance", epochs=1, **{**TINY, "patch": 16})
    model = train(
        image, labels, mode="instance", label_components=True, epochs=1, **{**TINY, "patch": 16}
    )
    assert model.class_map.mode == "instance"
