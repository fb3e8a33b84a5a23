import numpy as np
import pytest

from helpers import TINY
from napari_segdl import predict, train
from napari_segdl.core.errors import SegDLError


@pytest.mark.slow
def test_any_size_and_label_values(trained_model, blobs):
    image, _ = blobs
    for shape in [(37, 53), (5, 120), (1, 64), (96, 128)]:
        prediction = predict(trained_model, image[: shape[0], : shape[1]])
        assert prediction.shape == shape and prediction.dtype == np.uint8
        assert set(np.unique(prediction)) <= {0, 255}


@pytest.mark.slow
def test_channel_mismatch_is_refused(trained_model, blobs):
    with pytest.raises(
        SegDLError, match="'rgb' has 3 channel\\(s\\) but the model was trained on 1"
    ):
        predict(trained_model, np.dstack([blobs[0]] * 3), name="'rgb'")


@pytest.mark.slow
def test_nan_image_is_refused(trained_model, blobs):
    image = blobs[0].copy()
    image[0, 0] = np.nan
    with pytest.raises(SegDLError, match="NaN"):
        predict(trained_model, image)


@pytest.mark.slow
def test_integer_images_of_any_depth(blobs):
    image, labels = blobs
    model = train((image * 100).astype(np.uint16), labels, epochs=2, **TINY)
    assert predict(model, (image * 100).astype(np.uint16)).shape == labels.shape
