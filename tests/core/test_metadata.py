"""A bundle's training record read by attribute, written under its historic keys: the bundled
model and bundles of earlier versions read as before."""

from dataclasses import replace

import pytest

from napari_segdl import load_model
from napari_segdl.core.bundle import ModelInfo
from napari_segdl.core.labels.objects import MIN_SIZE
from napari_segdl.core.metadata import PostProcessing, RunRecord

#: The training record of a bundle written before the typed views (napari-segdl 0.3).
OLD = {
    "mode": "instance",
    "lr": 0.001,
    "epochs_run": 12,
    "best_epoch": 9,
    "ended": "time budget",
    "seconds": 61.5,
    "instance_levels": {"seed": 0.7, "extent": 0.4, "validation_f1_50": 0.81},
    "instance_min_size": 11,
    "object_diameter": 17.5,
    "kept_start": "no epoch beat the starting model",
}


def _info(training):
    return ModelInfo("unet", {"depth": 2}, {}, 1, {}, 64, training=dict(training))


def test_an_old_record_reads_by_attribute():
    info = _info(OLD)
    post, run = info.postprocessing, info.run
    assert (post.seed, post.extent, post.min_size) == (0.7, 0.4, 11)
    assert post.object_diameter == 17.5 and post.scale is None
    assert post.tuning == {"validation_f1_50": 0.81}
    assert (run.epochs_run, run.best_epoch, run.ended) == (12, 9, "time budget")
    assert run.kept_start.startswith("no epoch") and run.adapted is None


def test_a_record_without_post_processing_gives_the_defaults():
    post = _info({"mode": "instance"}).postprocessing
    assert post == PostProcessing() and post.min_size == MIN_SIZE
    assert RunRecord.of({}) == RunRecord()


def test_written_back_under_the_historic_keys():
    info = _info(OLD)
    info.postprocessing = replace(info.postprocessing, extent=0.5, scale=0.5)
    assert info.training["instance_levels"] == {
        "seed": 0.7,
        "extent": 0.5,
        "validation_f1_50": 0.81,
    }
    assert info.training["scale"] == 0.5 and info.training["instance_min_size"] == 11
    info.postprocessing = replace(info.postprocessing, scale=None)
    assert "scale" not in info.training
    assert info.training["lr"] == 0.001  # the settings stay as they were


def test_the_bundled_model_reads_typed():
    model = load_model("nuclei")
    assert model.info.postprocessing.object_diameter > 0
    assert model.info.run.provenance["seconds_total"] > 0
    with pytest.raises(AttributeError):
        model.info.run.epochs_run = 1  # a view: written through the record, not the view
