"""The Evaluate and Runs docks in a real viewer, through the manifest."""

import numpy as np
import pytest
from skimage.measure import label

from helpers import error_messages
from napari_segdl._widgets._common import SESSION_MODELS
from napari_segdl.core.train.runs import RunLog, summarize_run

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("fresh_session")]
TIMEOUT = 60_000  # ms


def _evaluate_dock(viewer, prediction, truth, kind="semantic"):
    _, dock = viewer.window.add_plugin_dock_widget("napari-segdl", "Evaluate")
    dock.prediction.value, dock.truth.value = viewer.layers[prediction], viewer.layers[truth]
    dock.kind.value = kind
    return dock


def _run(dock, qtbot):
    dock.evaluate_button.native.click()
    qtbot.waitUntil(lambda: not dock.running, timeout=TIMEOUT)


@pytest.mark.slow
def test_instance_evaluation_table_csv_and_error_layers(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-segdl", "nuclei")
    truth = label(viewer.layers["nuclei masks"].data).astype(np.uint16)
    missed = int(truth[truth > 0][0])
    prediction = np.where(truth == missed, 0, truth)
    viewer.add_labels(truth, name="truth")
    viewer.add_labels(prediction, name="prediction", scale=(2, 2))
    dock = _evaluate_dock(viewer, "prediction", "truth", kind="instance")
    dock.show_errors.value = True
    _run(dock, qtbot)
    figures = {(image, metric): value for image, metric, value in dock.rows}
    objects = len(np.unique(truth)) - 1
    assert figures[("all", "ap50")] == pytest.approx((objects - 1) / objects, abs=1e-4)
    assert figures[("all", "FN @0.5")] == 1 and figures[("all", "FP @0.5")] == 0
    assert "AP50" in dock.status.value
    assert [list(r) for r in dock.rows] == [list(r) for r in dock.table.value["data"]]
    negatives = viewer.layers["prediction false negatives"]
    assert set(np.unique(negatives.data)) == {0, missed}
    np.testing.assert_array_equal(negatives.scale, (2, 2))
    assert not viewer.layers["prediction false positives"].data.any()

    dock.csv_file.value = tmp_path / "scores.csv"
    dock.export_button.native.click()
    lines = (tmp_path / "scores.csv").read_text().splitlines()
    assert lines[0] == "image,metric,value" and len(lines) == len(dock.rows) + 1


def test_semantic_evaluation_of_stacks_scores_each_slice(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    truth = np.zeros((3, 20, 20), np.uint8)
    truth[:, 5:15, 5:15] = 1
    prediction = truth.copy()
    prediction[2] = 0
    viewer.add_labels(truth, name="truth")
    viewer.add_labels(prediction, name="prediction")
    dock = _evaluate_dock(viewer, "prediction", "truth")
    _run(dock, qtbot)
    figures = {(image, metric): value for image, metric, value in dock.rows}
    assert figures[("slice 0", "iou 1")] == 1.0 and figures[("slice 2", "iou 1")] == 0.0
    assert figures[("all", "iou 1")] == pytest.approx(2 / 3, abs=1e-4)


def test_bad_pairs_are_reported(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    mask = np.zeros((30, 30), np.uint8)
    mask[2:6, 2:6] = mask[10:14, 10:14] = mask[20:24, 20:24] = 1  # semantic: one value
    viewer.add_labels(mask, name="mask")
    viewer.add_labels(np.zeros((30, 31), np.uint8), name="wide")
    viewer.add_labels(np.zeros((30, 30), np.uint8), name="empty")
    dock = _evaluate_dock(viewer, "wide", "mask")
    _run(dock, qtbot)
    assert any("'wide' is (30, 31)" in e for e in error_messages())
    dock.prediction.value = viewer.layers["mask"]
    dock.kind.value = "instance"
    _run(dock, qtbot)
    assert any("looks semantic" in e for e in error_messages())
    dock.truth.value, dock.kind.value = viewer.layers["empty"], "semantic"
    _run(dock, qtbot)
    assert any("truth is empty" in e for e in error_messages())
    dock.export_button.native.click()
    assert any("Evaluate first" in e for e in error_messages())


@pytest.mark.slow
def test_runs_dock_ranks_runs_and_loads_the_chosen_model(
    make_napari_viewer, qtbot, tmp_path, trained_model
):
    log = RunLog()
    bundle = trained_model.save(tmp_path / "good.keras")
    good = log.record({**summarize_run(trained_model, ["a"], str(bundle)), "best_val_iou": 0.9})
    log.record({**summarize_run(trained_model, ["b"]), "best_val_iou": 0.5})
    assert log.ranked()[0]["id"] == good["id"]
    viewer = make_napari_viewer()
    _, runs = viewer.window.add_plugin_dock_widget("napari-segdl", "Runs")
    assert [run["id"] for run in runs.shown] == [good["id"], log.runs()[1]["id"]]
    assert len(runs.table.value["data"]) == 2
    runs.table.native.selectRow(1)  # the worse run was never saved
    runs.load_button.native.click()
    assert any("never saved" in e for e in error_messages())
    runs.table.native.selectRow(0)
    runs.load_button.native.click()
    loaded = f"run {good['id']}"
    qtbot.waitUntil(lambda: loaded in SESSION_MODELS.names(), timeout=300_000)
    assert SESSION_MODELS.names()[-1] == loaded  # after the bundled models


def test_runs_with_ids_that_look_like_numbers_are_found(make_napari_viewer):
    log = RunLog()
    for run_id, score in (("5e177110", 0.9), ("12345678", 0.5)):  # a float, an int to a table
        log.record(
            {
                "id": run_id,
                "finished": "2026-11-25T08:00:00+00:00",
                "arch": "unet",
                "mode": "dense",
                "data": ["x + y"],
                "best_val_iou": score,
                "bundle": None,
            }
        )
    viewer = make_napari_viewer()
    _, runs = viewer.window.add_plugin_dock_widget("napari-segdl", "Runs")
    for row, run_id in enumerate(("5e177110", "12345678")):
        runs.table.native.selectRow(row)
        runs.data_button.native.click()
        assert (
            error_messages()[-1]
            == f"Run {run_id} has no data kept (recorded before runs kept data)."
        )
