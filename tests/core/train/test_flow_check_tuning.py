"""A flow model's flow check is tuned on its validation patches with its extent: raised where
cellpose's default drops true objects, left at the default where nothing is gained, and used
by prediction and kept in the bundle; where the flows have not converged, the classes group
the pixels."""

import numpy as np

from helpers import disc_grid, untrained_model
from napari_segdl import load_model
from napari_segdl.core.infer.engine import instance_options
from napari_segdl.core.interop.card import package_config
from napari_segdl.core.labels import flows
from napari_segdl.core.labels.instances import instance_targets, instances_from_probabilities
from napari_segdl.core.metadata import PostProcessing
from napari_segdl.core.train.levels import tune_levels
from napari_segdl.core.train.sampling import TrainingData


class _Fixed:
    """A stand-in network that answers each validation patch with given scores."""

    def __init__(self, scores):
        self.scores = np.asarray(scores, np.float32)

    def predict_on_batch(self, batch):
        return self.scores[: len(batch)]


def _scores(labels, turned=()):
    """Flow-head outputs for ``labels``, the flows of the objects in ``turned`` turned 50°
    (they still lead to the centre, off their shape's flows: a mean error of about 0.7)."""
    classes = np.eye(3, dtype=np.float32)[instance_targets(labels)]
    vectors = flows.object_flows(labels)
    angle = np.deg2rad(50)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    for number in turned:
        inside = labels == number
        vectors[inside] = vectors[inside] @ rotation.T
    return np.concatenate([classes, vectors], -1)


def _tuned(scores, labels):
    model = untrained_model(training={"mode": "instance"}, flow=True)
    model.keras_model = _Fixed(scores[None])
    data = TrainingData([], [], np.zeros((1, *labels.shape, 1), np.float32),
                        instance_targets(labels)[None].astype(np.int32))  # fmt: skip
    return model, tune_levels(model, data, batch=1, min_size=4)


def test_the_flow_check_is_raised_where_its_default_drops_true_objects(tmp_path):
    _, labels = disc_grid(spacing=32, radius=9, size=96)
    labels = labels.astype(np.int32)
    scores = _scores(labels, turned=(5, 6))  # two whole objects inside the patch
    found = instances_from_probabilities(scores, min_size=4)
    assert found.max() == labels.max() - 2  # cellpose's 0.4 drops the turned two
    model, tuned = _tuned(scores, labels)
    assert tuned["flow_error"] == 0.8 and tuned["extent"] == 0.5  # the nearest that keeps them
    assert tuned["validation_f1_50"] == 1.0 > tuned["default_f1_50"]
    levels = {key: tuned.pop(key) for key in ("seed", "extent", "flow_error")}
    model.info.postprocessing = PostProcessing(**levels, tuning=tuned)
    assert instance_options(model)["max_error"] == 0.8
    assert instances_from_probabilities(scores, 4, max_error=0.8).max() == labels.max()
    model.keras_model = untrained_model(training={"mode": "instance"}, flow=True).keras_model
    loaded = load_model(model.save(tmp_path / "tuned.keras"))
    assert loaded.info.postprocessing.flow_error == 0.8
    assert instance_options(loaded, {"flow_error": 1.2})["max_error"] == 1.2


def test_the_default_stays_where_the_check_changes_nothing():
    _, labels = disc_grid(spacing=32, radius=9, size=96)
    _, tuned = _tuned(_scores(labels.astype(np.int32)), labels.astype(np.int32))
    assert (tuned["extent"], tuned["flow_error"]) == (0.5, flows.MAX_ERROR)
    assert tuned["validation_f1_50"] == tuned["default_f1_50"] == 1.0


def test_a_flow_model_whose_flows_have_not_converged_groups_by_its_classes(tmp_path):
    _, labels = disc_grid(spacing=32, radius=9, size=96)
    labels = labels.astype(np.int32)
    scores = _scores(labels)
    scores[..., 3:] = np.random.default_rng(0).normal(size=(*labels.shape, 2))  # no flows yet
    model, tuned = _tuned(scores, labels)
    assert tuned["group"] == "classes" and tuned["validation_f1_50"] == 1.0
    assert tuned["default_f1_50"] < 0.5  # following the flows: fragments
    model.info.postprocessing = PostProcessing().tuned(tuned)
    options = instance_options(model)
    assert options["group"] == "classes" and options["seed"] == tuned["seed"]
    found = instances_from_probabilities(scores, **options)
    assert found.max() == labels.max() and set(np.unique(found)) == set(np.unique(labels))
    model.keras_model = untrained_model(training={"mode": "instance"}, flow=True).keras_model
    loaded = load_model(model.save(tmp_path / "classes.keras"))
    assert loaded.info.postprocessing.group == "classes"
    method = package_config(loaded)["instance_postprocessing"]
    assert method["method"].startswith("seeded watershed") and "flow_error_level" not in method
    flowing = loaded.info.postprocessing.tuned({"seed": 0.5, "extent": 0.5, "flow_error": 0.8})
    assert flowing.group == "flows"  # tuned again once the flows lead
