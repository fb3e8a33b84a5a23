"""The bundled nuclei model, by name, on the package's sample (which it never trained on)."""

import numpy as np
import pytest

from napari_segdl import SegDLError, evaluate, load_model, predict
from napari_segdl._sample_data import nuclei_arrays
from napari_segdl.core.labels.heads import head_of
from napari_segdl.core.models.bundled import BUNDLED


@pytest.fixture(scope="module")
def nuclei():
    return load_model("nuclei")


def test_the_nuclei_model_is_bundled_with_its_card_and_provenance(nuclei):
    assert "nuclei" in BUNDLED.names()
    assert any(line.startswith("nuclei ") for line in BUNDLED.lines())
    assert BUNDLED.path("nuclei").stat().st_size <= 16 * 1024**2
    assert nuclei.class_map.mode == "instance"
    assert nuclei.info.recipe["steps"] == [{"op": "nuclear_stain"}]
    assert head_of(nuclei.info.arch_params) == "flow"
    provenance = nuclei.info.training["provenance"]
    for key in ("command", "data", "data_sha256", "sbsst265_sha256", "seed", "seconds_total",
                "machine"):  # fmt: skip
        assert provenance[key] not in (None, ""), key
    scores = provenance["held_out_scores"]  # by kind, as scripts/nuclei_card.py gives them
    assert {"DSB fluorescence", "DSB stained tissue", "S-BSST265 test"} <= set(scores)
    assert all(row["f1_50"] > 0.7 for row in scores.values())
    low, high = nuclei.info.postprocessing.sizes
    assert 5 < low < nuclei.info.postprocessing.object_diameter < high


def test_grey_rgb_and_16_bit_images_give_the_same_nuclei(nuclei):
    sample = nuclei_arrays(0)
    grey = sample["image"]
    masks = predict(nuclei, grey)
    assert evaluate(masks, sample["instances"], instance=True)["f1_50"] > 0.6
    rgb = predict(nuclei, np.dstack([grey] * 3))
    deep = predict(nuclei, grey.astype(np.uint16) * 257)
    for other in (rgb, deep):
        assert evaluate(other, masks, instance=True)["f1_50"] > 0.95


def test_an_image_whose_channels_the_model_cannot_take_is_refused(nuclei):
    two = np.zeros((64, 64, 2), np.uint8)
    with pytest.raises(SegDLError, match=r"\) takes grey or RGB\(A\) images, but .*2 channels"):
        predict(nuclei, two, name="image layer 'two channels'")


def test_the_cli_predicts_with_the_bundled_model_by_name(tmp_path, capsys):
    import imageio.v3 as iio
    import tifffile

    from napari_segdl.cli import main

    iio.imwrite(tmp_path / "cells.png", nuclei_arrays(1)["image"])
    assert main(["predict", "nuclei", str(tmp_path / "cells.png"), "--out", str(tmp_path)]) == 0
    assert tifffile.imread(tmp_path / "cells.tif").max() > 5
    assert main(["models"]) == 0
    assert "nuclei" in capsys.readouterr().out
