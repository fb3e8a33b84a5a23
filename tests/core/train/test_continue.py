"""Continue training (human in the loop): from a model's weights, keeping its classes."""

import numpy as np
import pytest

from helpers import TINY, make_blobs
from napari_segdl import SegDLError, evaluate, predict, train


@pytest.mark.slow
def test_continue_keeps_network_classes_and_leaves_the_first_model_alone(trained_model):
    image, labels = make_blobs(seed=3)
    weights = [w.copy() for w in trained_model.keras_model.get_weights()]
    corrected = labels.copy()
    corrected[:10] = 0  # a user's correction: background painted over a few pixels
    model = train(
        image,
        corrected,
        initial=trained_model,
        epochs=2,
        filters=64,
        **{k: v for k, v in TINY.items() if k != "filters"},
    )
    assert model.class_map == trained_model.class_map
    assert model.info.arch_params == trained_model.info.arch_params  # filters=64 is not used
    assert model.info.training["continued_from"]["epochs_run"] == 3
    for before, now in zip(weights, trained_model.keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, now)  # the starting model is unchanged
    score = evaluate(predict(model, image), labels)
    assert score["iou"]["per_class"]["255"] > 0.5


@pytest.mark.slow
def test_continue_refuses_other_channels_and_unknown_label_values(trained_model):
    image, labels = make_blobs(seed=4)
    rgb = np.stack([image] * 3, axis=-1)
    with pytest.raises(SegDLError, match=r"1 channel\(s\) but these have 3"):
        train(rgb, labels, initial=trained_model, epochs=1, **TINY)
    with pytest.raises(SegDLError, match=r"label values \[7\] are not classes of this model"):
        train(
            image,
            np.where(labels > 0, 7, 0).astype(np.uint8),
            initial=trained_model,
            epochs=1,
            **TINY,
        )


@pytest.mark.slow
def test_the_patch_is_checked_against_the_depth_of_the_model_continued():
    """A depth-5 model continued with patch 48 (a multiple of 16, the configured depth 4's
    grid, not of 32) is refused with the reason, not a Keras error."""
    image, labels = make_blobs(shape=(128, 128))
    deep = train(image, labels, epochs=1, **{**TINY, "depth": 5, "patch": 64})
    with pytest.raises(
        SegDLError, match=r"patch 48 is not a multiple of 2\*\*depth = 32 \(depth 5\)"
    ):
        train(image, labels, initial=deep, epochs=1, **{**TINY, "depth": 4, "patch": 48})
