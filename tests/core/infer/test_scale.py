"""Scaling images so that their objects match the size a model learned."""

import re

import numpy as np
import pytest
from skimage.transform import rescale

from helpers import TINY, make_blobs
from napari_segdl import SegDLError, predict, train


@pytest.mark.slow
def test_scale_and_diameter_resize_and_return_masks_at_the_image_size(trained_model):
    image, _ = make_blobs()
    big = rescale(image, 2, order=1)
    masks = predict(trained_model, big, scale=0.5)
    assert masks.shape == big.shape
    np.testing.assert_array_equal(masks, predict(trained_model, big, scale=0.5, tile=4096))
    # the network saw (about) the original image: its masks, brought back to the big image
    small = np.kron(predict(trained_model, image), np.ones((2, 2), np.uint8))
    assert (masks == small).mean() > 0.9


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scale": 0}, "scale must be between 0.01 and 100; received 0"),
        ({"scale": -1.5}, "scale must be between 0.01 and 100; received -1.5"),
        ({"scale": 0.5, "diameter": 10}, "Give a scale or an object diameter, not both"),
        ({"diameter": 10}, "does not record the size of the objects it learned"),
        ({"scale": 0.01}, r"makes image 1 x 1 pixels, smaller than one network input \(4 x 4\)"),
        ({"scale": 200}, "scale must be between 0.01 and 100; received 200"),
    ],
)
def test_bad_scales_are_refused_before_any_work(trained_model, options, message):
    image, _ = make_blobs()
    with pytest.raises(SegDLError, match=message):
        predict(trained_model, image, **options)


@pytest.mark.slow
def test_a_scale_beyond_the_memory_limit_is_refused(trained_model):
    with pytest.raises(SegDLError, match="above the 179-megapixel limit of prediction in memory"):
        predict(trained_model, np.zeros((160, 160), np.float32), scale=90)


@pytest.mark.slow
def test_instance_models_record_the_diameter_they_learned():
    image = np.zeros((96, 96), np.float32)
    labels = np.zeros((96, 96), np.uint16)
    for number, (y, x) in enumerate([(20, 20), (20, 60), (60, 30), (70, 75)], 1):
        labels[y - 5 : y + 5, x - 5 : x + 5] = number
        image[labels == number] = 100
    model = train(image, labels, mode="instance", epochs=1, **TINY)
    assert model.info.training["object_diameter"] == pytest.approx(np.sqrt(400 / np.pi), abs=0.01)
    masks = predict(model, rescale(image, 2, order=0), diameter=2 * np.sqrt(400 / np.pi))
    assert masks.shape == (192, 192)


def test_objects_far_outside_the_learned_sizes_get_advice_and_others_none():
    import warnings

    from napari_segdl import load_model
    from napari_segdl._sample_data import nuclei_arrays
    from napari_segdl.core.infer.scale import ObjectSizeWarning

    model = load_model("nuclei")  # learned nuclei about 20 pixels across
    image = nuclei_arrays(0)["image"].astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ObjectSizeWarning)
        predict(model, image, name="as painted")  # its own size: no advice
        predict(model, rescale(image, 0.25), scale=4.0)  # a size chosen: none either
    with pytest.warns(
        ObjectSizeWarning,
        match=r"small: its objects measure about [4-7] pixels across, (under half|smaller than) "
        r"the .*the model learned.*predict again with diameter [4-7] ",
    ):
        predict(model, rescale(image, 0.25), name="small")
    from napari_segdl.core.infer.options import PredictOptions
    from napari_segdl.core.worker.jobs import predict_layer

    options = PredictOptions(uncertainty=True)  # the Predict dock's path, with its maps
    result = predict_layer(model, rescale(image, 0.25), options, "layer 'small'", True)
    assert len(result.advice) == 1
    assert re.search(r"predict again with diameter [4-7] ", result.advice[0])


def test_the_advice_names_the_range_a_model_recorded():
    from helpers import untrained_model
    from napari_segdl.core.infer.scale import size_advice

    record = {"mode": "instance", "object_diameter": 20.0, "diameter_range": [12.0, 30.0]}
    model = untrained_model(training=record)
    big = np.zeros((200, 200), np.uint16)
    big[20:100, 20:100] = 1  # about 90 pixels across
    advice = size_advice(model, big, "image 'big'")
    assert advice.startswith("image 'big': its objects measure about 90 pixels across, larger")
    assert "than the 12-30 pixels of the objects the model learned" in advice
    middle = np.zeros((64, 64), np.uint16)
    middle[10:28, 10:28] = 1  # about 20 pixels: inside the range
    assert size_advice(model, middle, "image") is None
    assert size_advice(model, np.zeros((8, 8), np.uint16), "image") is None  # nothing found
