"""The nuclear-stain colour step: haematoxylin for brightfield slides, luminance otherwise, any
integer or 0-1 / 0-255 float image, and a clear refusal of what it cannot read."""

import numpy as np
import pytest

from napari_segdl._sample_data import nuclei_arrays, tissue_arrays
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.preprocess import Recipe, preprocess
from napari_segdl.core.preprocess.ops import is_brightfield, nuclear_stain, unit_rgb

RECIPE = Recipe.coerce([{"op": "nuclear_stain"}])


def test_a_stained_slide_gives_its_nuclei_bright():
    sample = tissue_arrays(0)
    assert is_brightfield(unit_rgb(sample["image"]))
    stain = nuclear_stain(sample["image"])
    inside, outside = stain[sample["instances"] > 0], stain[sample["instances"] == 0]
    assert stain.shape == sample["image"].shape[:2] and stain.dtype == np.float32
    assert np.median(inside) - np.median(outside) > 1.5 * stain.std()  # bright, as fluorescence


def test_fluorescence_and_grey_images_are_grey_as_before():
    fluorescence = nuclei_arrays(0)["image"]
    grey = fluorescence[..., 0] if fluorescence.ndim == 3 else fluorescence
    np.testing.assert_allclose(nuclear_stain(grey), grey.astype(np.float32))
    if fluorescence.ndim == 3:
        assert not is_brightfield(unit_rgb(fluorescence))


def test_an_unstained_brightfield_image_gives_its_dark_nuclei_bright():
    sample = tissue_arrays(0)
    grey = np.repeat(sample["image"][..., :3].mean(-1, keepdims=True), 3, axis=-1)
    stain = nuclear_stain(grey.astype(np.uint8))  # no colour: dark nuclei on a bright slide
    inside, outside = stain[sample["instances"] > 0], stain[sample["instances"] == 0]
    assert np.median(inside) - np.median(outside) > 1.5 * stain.std()


@pytest.mark.parametrize(
    "convert",
    [
        lambda x: x.astype(np.uint16) * 257,  # 16-bit
        lambda x: x.astype(np.float32) / 255,  # float 0-1
        lambda x: x.astype(np.float64),  # float 0-255
    ],
)
def test_16_bit_and_float_slides_give_what_8_bit_gives(convert):
    image = tissue_arrays(1)["image"][..., :3]
    np.testing.assert_allclose(nuclear_stain(convert(image)), nuclear_stain(image), atol=1e-5)


def test_float_values_it_cannot_read_are_refused_naming_the_image():
    image = tissue_arrays(1)["image"][..., :3].astype(np.float32) * 1000.0
    with pytest.raises(SegDLError, match=r"'slide\.tif'.*0-1 or 0-255 values.*scale it"):
        preprocess(image, RECIPE, channels=True, name="'slide.tif'")


def test_an_image_of_other_channels_is_refused_with_what_to_do():
    two = np.zeros((32, 32, 2), np.uint8)
    with pytest.raises(SegDLError, match=r"'two'.*2 channels: pick the channel to segment"):
        preprocess(two, RECIPE, channels=True, name="'two'")
