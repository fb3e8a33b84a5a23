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
    for before, now in zip(
        trained_model.keras_model.layers, model.keras_model.layers, strict=True
    ):
        if "_bn" in before.name:  # batch-norm statistics kept while fine-tuning
            np.testing.assert_array_equal(before.moving_mean.numpy(), now.moving_mean.numpy())
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


@pytest.mark.slow
def test_raw_images_go_through_the_recipe_of_the_model_continued():
    """A grey model with a to_grey recipe (as the bundled one) continues on RGB images."""
    from napari_segdl.core.preprocess import Recipe

    image, labels = make_blobs()
    recipe = Recipe.coerce([{"op": "to_grey"}])
    model = train(image, labels, recipe=recipe, epochs=1, **TINY)
    rgb = np.dstack([image] * 3)
    continued = train(rgb, labels, initial=model, epochs=1, **TINY)
    assert continued.info.channels == 1 and continued.info.recipe == recipe.to_dict()
    assert predict(continued, rgb).shape == labels.shape


@pytest.mark.slow
def test_a_few_corrected_images_keep_the_levels_of_the_model_continued():
    image = np.zeros((64, 64), np.float32)
    labels = np.zeros((64, 64), np.uint16)
    for number, (y, x) in enumerate([(12, 12), (12, 44), (44, 20), (46, 48)], 1):
        labels[y - 6 : y + 6, x - 6 : x + 6] = number
        image[labels == number] = 100
    model = train(image, labels, mode="instance", epochs=1, **TINY)
    model.info.training["instance_levels"] = {"seed": 0.3, "extent": 0.6}
    continued = train(image, labels, initial=model, epochs=1, **TINY)
    assert continued.info.training["instance_levels"] == {"seed": 0.3, "extent": 0.6}
