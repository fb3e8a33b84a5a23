"""Adapting an instance model to corrections: levels and scale fitted in seconds, the model
given is not changed, and fine-tuning starts from the adapted model."""

import numpy as np
import pytest
from skimage.transform import rescale

from helpers import TINY
from napari_segdl import adapt, predict, train
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.infer.engine import instance_options

pytestmark = pytest.mark.slow


def _discs(shape=(128, 128), radius=6, count=14, seed=0):
    from skimage.draw import disk

    rng = np.random.default_rng(seed)
    image = rng.normal(30, 6, shape).astype(np.float32)
    labels = np.zeros(shape, np.uint16)
    for number in range(1, count + 1):
        centre = rng.integers(radius + 2, np.array(shape) - radius - 2)
        rr, cc = disk(centre, radius, shape=shape)
        free = labels[rr, cc] == 0
        image[rr[free], cc[free]] += 80
        labels[rr[free], cc[free]] = number
    return image, labels


@pytest.fixture(scope="module")
def model():
    image, labels = _discs()
    params = {**TINY, "patch": 48}  # the classes' seeds and extent (flows need more steps)
    return train(image, labels, mode="instance", instance_head="boundary", epochs=6, **params)


def test_objects_twice_the_learned_size_are_tried_at_half_scale(model):
    image, labels = _discs(seed=1)
    big = rescale(image, 2, order=1, preserve_range=True).astype(np.float32)
    big_labels = rescale(labels, 2, order=0, preserve_range=True, anti_aliasing=False)
    adapted = adapt(model, big, big_labels.astype(np.uint16))
    record = adapted.info.training["adapted"]
    assert record["scale"] in (1.0, pytest.approx(0.5, abs=0.06))  # a tie keeps 1
    assert record["f1_50_after"] >= record["f1_50_before"]
    assert "adapted" not in model.info.training and "scale" not in model.info.training
    adapted.info.training["scale"] = 0.5  # an adapted scale applies by itself
    np.testing.assert_array_equal(predict(adapted, big), predict(model, big, scale=0.5))


def test_corrections_the_model_already_gets_right_keep_its_levels_and_scale(model):
    image, _ = _discs(seed=4)
    own = predict(model, image)  # nothing corrected: no fit can beat the start by the margin
    record = adapt(model, image, own).info.training["adapted"]
    levels = instance_options(model)
    assert (record["scale"], record["seed"], record["extent"]) == (
        1.0, levels["seed"], levels["extent"],
    )  # fmt: skip
    assert record["f1_50_after"] == record["f1_50_before"] == 1.0


def test_fine_tuning_starts_from_the_adapted_model(model):
    image, labels = _discs(seed=2)
    tuned = train(image, labels, initial=model, epochs=1, **{**TINY, "patch": 48})
    assert tuned.info.training["adapted"]["images"] == 1


def test_bad_corrections_are_refused_by_name(model, trained_model):
    image, labels = _discs(seed=3)
    with pytest.raises(SegDLError, match="labels 'empty': holds no object"):
        adapt(model, image, np.zeros_like(labels), sources=[("image 'a'", "labels 'empty'")])
    with pytest.raises(SegDLError, match="2D instance models; this model is a 2D dense"):
        adapt(trained_model, image, labels)


def test_the_cli_adapts_the_bundled_model_to_a_corrected_sample(tmp_path, capsys):
    from importlib.resources import files

    from napari_segdl import load_model
    from napari_segdl.cli import main

    samples = files("napari_segdl") / "samples"
    args = ["train", str(samples / "nuclei_1.png"), str(samples / "nuclei_1_instances.png")]
    args += ["--from-model", "nuclei", "--adapt-only", "--out", str(tmp_path / "a.keras")]
    assert main(args) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "adapted to 1 corrected image(s): F1@0.5" in last
    record = load_model(tmp_path / "a.keras").info.training["adapted"]
    assert record["f1_50_after"] >= record["f1_50_before"]
    assert main([*args[:3], "--adapt-only", "--out", str(tmp_path / "b.keras")]) == 2
    assert "--adapt-only adapts the model given with --from-model" in capsys.readouterr().err


def test_one_corrected_image_must_beat_chance_on_its_objects():
    from napari_segdl import load_model
    from napari_segdl._sample_data import tissue_arrays

    sample = tissue_arrays(0)  # 34 nuclei: a fit must gain 1/sqrt(34) = 0.17, not 0.02
    nuclei = load_model("nuclei")
    record = adapt(nuclei, sample["image"], sample["instances"]).info.training["adapted"]
    levels = instance_options(nuclei)
    assert (record["seed"], record["extent"]) == (levels["seed"], levels["extent"])
    assert record["f1_50_after"] == record["f1_50_before"]
