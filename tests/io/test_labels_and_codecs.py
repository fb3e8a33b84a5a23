"""Label files saved in colour, and compressed TIFFs (LZW, Deflate, JPEG) as Fiji writes them."""

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile

from napari_segdl.core.errors import SegDLError
from napari_segdl.io.base import missing_codec
from napari_segdl.io.captures import read_capture
from napari_segdl.io.files import colour_values, read_image, read_labels


def _two_colour_mask():
    mask = np.zeros((16, 16, 3), np.uint8)
    mask[2:8, 2:8] = (255, 0, 0)
    mask[9:14, 9:14] = (0, 255, 0)
    return mask


def test_a_colour_label_file_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "mask.png"
    iio.imwrite(path, _two_colour_mask())
    with pytest.raises(SegDLError, match=r"mask.png' is a colour image: label files hold one"):
        read_labels(path)


def test_a_grey_mask_saved_as_rgb_is_taken_as_one_channel(tmp_path):
    path = tmp_path / "mask.png"
    grey = np.zeros((16, 16), np.uint8)
    grey[4:9, 4:9] = 255
    iio.imwrite(path, np.dstack([grey] * 3))
    np.testing.assert_array_equal(read_labels(path), grey)


def test_colour_labels_converted_on_purpose(tmp_path):
    path = tmp_path / "mask.png"
    iio.imwrite(path, _two_colour_mask())
    labels = read_labels(path, colours=True)
    assert labels.shape == (16, 16) and labels.dtype == np.uint8
    # black 0; sorted colours: (0, 255, 0) before (255, 0, 0)
    assert labels[0, 0] == 0 and labels[10, 10] == 1 and labels[3, 3] == 2
    _, mapping = colour_values(_two_colour_mask())
    assert mapping == {0: (0, 0, 0), 1: (0, 255, 0), 2: (255, 0, 0)}


def test_colours_without_black_start_at_one():
    rgb = np.zeros((2, 2, 3), np.uint8) + 7
    values, mapping = colour_values(rgb)
    assert set(np.unique(values)) == {1} and mapping == {1: (7, 7, 7)}


def test_a_varying_alpha_is_refused(tmp_path):
    path = tmp_path / "mask.png"
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[0, 0, 3] = 0
    iio.imwrite(path, rgba)
    with pytest.raises(SegDLError, match="transparency channel that varies"):
        read_labels(path)


@pytest.mark.parametrize("compression", ["lzw", "deflate", "jpeg"])
def test_compressed_tiffs_open(tmp_path, compression):
    image = (np.arange(64 * 48, dtype=np.uint32).reshape(64, 48) % 200).astype(np.uint8)
    path = tmp_path / f"{compression}.tif"
    tifffile.imwrite(path, image, compression=compression)
    for data in (read_image(path), np.asarray(read_capture(path).data)):
        assert data.shape == image.shape
        if compression != "jpeg":  # lossy
            np.testing.assert_array_equal(data, image)


def test_a_missing_codec_is_not_blamed_on_the_file(tmp_path):
    error = ValueError("<COMPRESSION.LZW: 5> requires the 'imagecodecs' package")
    message = str(missing_codec(tmp_path / "a.tif", error))
    assert "The file is fine" in message and "pip install --upgrade imagecodecs" in message
    assert "corrupt" not in message
    assert missing_codec(tmp_path / "a.tif", ValueError("truncated")) is None
