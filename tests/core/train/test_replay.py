"""Replay: fine-tuning the bundled model mixes in patches of its own training images (and so
does fine-tuning a model continued from it); other models and replay=False do not."""

import numpy as np
import pytest

from helpers import TINY, make_blobs
from napari_segdl import load_model, train
from napari_segdl._sample_data import tissue_arrays
from napari_segdl.core.labels.instances import check_instance_labels
from napari_segdl.core.models.bundled import BUNDLED
from napari_segdl.core.train.losses import FIRST_FLOW_WEIGHT
from napari_segdl.core.train.replay import FEWEST, replay_patches

pytestmark = pytest.mark.slow

QUICK = {"epochs": 1, "steps_per_epoch": 2, "batch": 2, "patch": 128, "max_time": None}


def test_the_replay_patches_are_grey_crops_of_the_training_images_with_their_nuclei():
    with np.load(BUNDLED.replay_path("nuclei")) as archive:
        images, labels, ids = archive["images"], archive["labels"], archive["ids"]
    assert images.shape == labels.shape and images.ndim == 3 and np.isfinite(images).all()
    assert all(lab.any() for lab in labels) and len(set(ids.tolist())) == len(ids)
    for label, name in zip(labels, ids, strict=True):  # instance mode takes each of them
        check_instance_labels(label, f"replay patch of {name}")
    few, _ = replay_patches("nuclei", pixels=1, seed=0)
    many, _ = replay_patches("nuclei", pixels=10**9, seed=0)
    assert len(few) == FEWEST and len(many) == len(images)


def test_fine_tuning_the_bundled_model_replays_what_it_knew_and_passes_it_on():
    sample = tissue_arrays(1)
    tuned = train(sample["image"], sample["instances"], initial=load_model("nuclei"), **QUICK)
    training = tuned.info.training
    scale = tuned.info.postprocessing.scale or 1.0  # adapting may resize the corrections
    pixels = sample["instances"].size * scale**2  # as many replay pixels as corrected ones
    assert training["replay_of"] == "nuclei" and training["pairs"] == 1
    assert training["replay_patches"] == max(FEWEST, round(pixels / 128**2))
    start = tuned.info.history["start"]  # the held-out objects decide, object by object
    assert start["test"].startswith("paired") and training["validation_patches"] >= 2
    verdict = tuned.info.history["verdict"][0]
    assert verdict["lower"] <= verdict["gain"] and verdict["beats"] == (
        training["best_epoch"] == 1
    )
    assert training["flow_weight"] == FIRST_FLOW_WEIGHT  # its flows weigh as they trained
    again = train(sample["image"], sample["instances"], initial=tuned, **QUICK)
    assert again.info.training["replay_of"] == "nuclei"
    assert again.info.training["flow_weight"] == FIRST_FLOW_WEIGHT
    alone = train(sample["image"], sample["instances"], initial=tuned, replay=False, **QUICK)
    assert "replay_patches" not in alone.info.training


def test_a_model_of_its_own_has_nothing_to_replay():
    image, labels = make_blobs(seed=1)
    start = train(image, labels, epochs=1, **TINY)
    tuned = train(image, labels, initial=start, epochs=1, **TINY)
    assert "replay_of" not in tuned.info.training


def test_a_mask_numbered_on_request_is_adapted_to_as_objects():
    from napari_segdl._sample_data import nuclei_arrays

    sample = nuclei_arrays(1)  # a 0/1 mask: numbered before adapting and training
    tuned = train(sample["image"], sample["masks"], initial=load_model("nuclei"),
                  label_components=True, **QUICK)  # fmt: skip
    assert tuned.info.training["adapted"]["f1_50_before"] > 0.5  # objects, not one mask


def test_replay_matches_the_checked_region_not_the_whole_image():
    from napari_segdl._sample_data import section_arrays

    sample = section_arrays()  # only the left half checked: replay as many pixels as that
    tuned = train(sample["image"], sample["corrections"], initial=load_model("nuclei"),
                  regions=[sample["checked"]], **QUICK)  # fmt: skip
    checked = int(sample["checked"].sum())
    assert checked < sample["checked"].size * 0.6
    assert tuned.info.training["replay_patches"] == max(FEWEST, round(checked / 128**2))
