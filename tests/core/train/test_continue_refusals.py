"""What cannot be continued is refused with what can: a Model Zoo package (file or object)."""

import zipfile

import numpy as np
import pytest

from helpers import make_blobs
from napari_segdl import load_model, train
from napari_segdl.cli import main
from napari_segdl.core.errors import SegDLError


@pytest.fixture
def package(tmp_path):
    path = tmp_path / "cells.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("rdf.yaml", "type: model\nformat_version: 0.5.3\n")
    return path


def test_a_model_zoo_package_is_not_loaded_as_a_model_to_continue(package):
    with pytest.raises(SegDLError, match=r"cells\.zip' is a BioImage Model Zoo package: it "
                       r"predicts.*use the \.keras model it was exported from"):  # fmt: skip
        load_model(package)


def test_the_cli_refuses_to_continue_a_model_zoo_package(package, tmp_path, capsys):
    import tifffile

    image, labels = make_blobs()
    tifffile.imwrite(tmp_path / "a.tif", image)
    tifffile.imwrite(tmp_path / "a_labels.tif", labels)
    args = ["train", str(tmp_path / "a.tif"), str(tmp_path / "a_labels.tif")]
    assert main([*args, "--from-model", str(package), "--out", str(tmp_path / "m.keras")]) != 0
    assert "is a BioImage Model Zoo package" in capsys.readouterr().err
    assert not (tmp_path / "m.keras").exists()


def test_only_napari_segdl_models_are_continued():
    image, labels = make_blobs()
    with pytest.raises(SegDLError, match="Only napari-segdl models can be continued"):
        train(image, labels, initial=object())


def test_a_dense_mask_given_to_an_instance_model_offers_to_number_its_objects():
    from napari_segdl._sample_data import nuclei_arrays

    sample = nuclei_arrays(1)
    with pytest.raises(SegDLError, match=r"labels 'mask' looks semantic.*label_components=True"):
        train(sample["image"], sample["masks"], initial=load_model("nuclei"),
              sources=[("image 'a'", "labels 'mask'")])  # fmt: skip


def test_corrections_without_any_object_are_refused_by_name():
    from napari_segdl._sample_data import nuclei_arrays

    sample = nuclei_arrays(1)
    with pytest.raises(SegDLError, match="labels 'nothing': no objects"):
        train(sample["image"], 0 * sample["instances"], initial=load_model("nuclei"),
              sources=[("image 'a'", "labels 'nothing'")])  # fmt: skip


def test_images_with_other_channels_than_the_model_are_refused_with_what_to_do():
    from napari_segdl._sample_data import nuclei_arrays

    sample = nuclei_arrays(1)
    two = np.dstack([sample["image"]] * 2)  # the bundled model takes grey or RGB
    with pytest.raises(SegDLError, match=r"image 'a'.*2 channels: pick the channel"):
        train(two, sample["instances"], initial=load_model("nuclei"),
              sources=[("image 'a'", "labels 'b'")])  # fmt: skip
    image, labels = make_blobs()
    start = train(image, labels, epochs=1, filters=8, depth=2, patch=32, batch=4,
                  steps_per_epoch=2)  # fmt: skip
    with pytest.raises(
        SegDLError, match=r"trained on images with 1 channel\(s\) but these have 2"
    ):
        train(np.dstack([image] * 2), labels, initial=start, epochs=1)
