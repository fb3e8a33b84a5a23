import imageio.v3 as iio
import numpy as np
import pytest
import tifffile

from napari_segdl.core.errors import SegDLError
from napari_segdl.io.files import list_images, pair_by_stem, read_image, write_tiff


def test_pairs_by_stem_across_formats(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "lab").mkdir()
    for stem in ("b", "a"):
        iio.imwrite(tmp_path / "img" / f"{stem}.png", np.zeros((4, 4), np.uint8))
        tifffile.imwrite(tmp_path / "lab" / f"{stem}.tif", np.zeros((4, 4), np.uint16))
    (tmp_path / "img" / "notes.txt").write_text("not an image")
    pairs = pair_by_stem(list_images(tmp_path / "img"), list_images(tmp_path / "lab"))
    assert [(i.name, lab.name) for i, lab in pairs] == [("a.png", "a.tif"), ("b.png", "b.tif")]


def test_directory_without_images(tmp_path):
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(SegDLError, match="has no images"):
        list_images(tmp_path)
    with pytest.raises(SegDLError, match="does not exist"):
        list_images(tmp_path / "missing")


def test_unpaired_stems_are_listed(tmp_path):
    images = [tmp_path / "a.png", tmp_path / "b.png"]
    labels = [tmp_path / "a.tif", tmp_path / "c.tif"]
    with pytest.raises(SegDLError, match=r"2 file stem.*b, c"):
        pair_by_stem(images, labels)


def test_file_that_is_not_an_image(tmp_path):
    fake = tmp_path / "fake.png"
    fake.write_text("this is text")
    with pytest.raises(SegDLError, match=r"Could not read .*fake\.png.* as an image"):
        read_image(fake)


def test_write_tiff_is_atomic_and_lossless(tmp_path):
    labels = np.arange(12, dtype=np.uint16).reshape(3, 4) * 1000
    path = write_tiff(tmp_path / "out" / "a.tif", labels)
    np.testing.assert_array_equal(tifffile.imread(path), labels)
    assert [p.name for p in path.parent.iterdir()] == ["a.tif"]
