"""Faults of the Train dock's worker process in a real viewer: the viewer, its layers and the
next Train survive them all."""

import os
import signal

import numpy as np
import pytest
from napari import current_viewer

from helpers import error_messages, gone, sample_train_dock
from napari_segdl.core.train.runs import RunLog

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("fresh_session")]

TIMEOUT = 300_000  # ms


def _train_dock(viewer, epochs=500, tmp_path=None):
    train = sample_train_dock(viewer, epochs)
    train.batch.value = 4
    if tmp_path is not None:
        train.checkpoints.value = tmp_path / "checkpoints"
    return train


def _layers(viewer) -> dict:
    return {layer.name: np.array(layer.data) for layer in viewer.layers}


@pytest.mark.slow
def test_kill_9_during_an_epoch_offers_the_checkpoint_and_train_works_at_once(
    make_napari_viewer, qtbot, tmp_path
):
    viewer = make_napari_viewer()
    train = _train_dock(viewer, tmp_path=tmp_path)
    before = _layers(viewer)
    train.train_button.native.click()
    qtbot.waitUntil(
        lambda: train.last_run.epoch >= 1 and "step" in train.status.value, timeout=TIMEOUT
    )
    qtbot.waitUntil(lambda: train.last_run.checkpoint.is_file(), timeout=TIMEOUT)
    pid = train.process.pid
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    status = train.status.value
    assert status.startswith("The worker process was killed (SIGKILL"), status
    assert "best checkpoint" in status and "Press Train to go on" in status
    assert train.start_from.value.startswith(f"checkpoint of run {train.last_run.id}")
    assert gone(pid)
    after = _layers(viewer)
    assert after.keys() == before.keys()
    for name, data in before.items():
        np.testing.assert_array_equal(after[name], data)
    died = RunLog().runs()[-1]
    assert died["id"] == train.last_run.id and os.path.isfile(died["data_file"])

    train.epochs.value = 1  # at once, from the checkpoint
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.model is not None, error_messages()
    assert train.model.info.training["continued_from"]["epochs_run"] >= 1
    assert train.process.pid != pid


@pytest.mark.slow
def test_bad_data_raised_in_the_child_reach_the_dock_unchanged(make_napari_viewer, qtbot):
    from napari_segdl import train as train_here
    from napari_segdl.core.errors import SegDLError

    viewer = make_napari_viewer()
    train = _train_dock(viewer)
    empty = viewer.add_labels(np.zeros((256, 256), np.uint8), name="empty")
    train.pairs.rows[0].labels_layer.value = empty
    train.mode.value = "sparse"
    with pytest.raises(SegDLError) as here:
        train_here(
            [viewer.layers["nuclei"].data],
            [empty.data],
            mode="sparse",
            sources=[("image layer 'nuclei'", "labels layer 'empty'")],
        )
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert str(here.value) in error_messages()
    assert train.status.value == "Nothing trained: see the message."
    assert train.process.alive  # bad input does not end the process
    assert not (RunLog().path.parent / "runs" / train.last_run.id).exists()  # nothing to keep


@pytest.mark.slow
def test_train_pressed_twice_quickly_starts_one_run(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    train = _train_dock(viewer, epochs=1)
    train.train_button.native.click()
    train.train_button.native.click()
    train._start()  # a script pressing it too
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.model is not None, error_messages()
    assert len(RunLog().runs()) == 1
    assert len(list((RunLog().path.parent / "runs").iterdir())) == 1


def test_a_run_folder_that_cannot_be_written_is_refused_before_training(
    make_napari_viewer, monkeypatch, tmp_path
):
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("NAPARI_SEGDL_RUNS", str(blocked / "runs.jsonl"))
    viewer = make_napari_viewer()
    train = _train_dock(viewer)
    train.train_button.native.click()
    assert not train.running
    assert not train.has_process  # no worker process was started
    assert any("Cannot write the run's data and model to" in e for e in error_messages())


@pytest.mark.slow
def test_a_hanging_child_is_reported_and_ended_with_the_button(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    train = _train_dock(viewer)
    train.train_button.native.click()
    qtbot.waitUntil(lambda: "step" in train.status.value, timeout=TIMEOUT)
    train.process.hang_seconds = 1.0
    pid = train.process.pid
    os.kill(pid, signal.SIGSTOP)
    qtbot.waitUntil(lambda: "No word" in train.status.value, timeout=TIMEOUT)
    assert train.status.value.startswith("No word from the worker process for")
    assert not train.end_button.native.isHidden()
    train.end_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.status.value.startswith("The worker process was ended on request")
    assert gone(pid) and train.end_button.native.isHidden()


@pytest.mark.slow
def test_a_second_viewer_in_the_same_process_trains_beside_the_first(make_napari_viewer, qtbot):
    # the first is shown, as on a desktop: closing a hidden last window would quit the app
    first, second = make_napari_viewer(show=True), make_napari_viewer()
    one, two = _train_dock(first, epochs=2), _train_dock(second, epochs=500)
    two.train_button.native.click()
    first.window.activate()  # a user's click on Train brings its window forward
    qtbot.waitUntil(lambda: current_viewer() is first)
    one.train_button.native.click()
    qtbot.waitUntil(lambda: "step" in two.status.value, timeout=TIMEOUT)
    assert one.process.pid != two.process.pid
    pid = two.process.pid
    second.close()  # the second viewer's process ends; the first trains on
    assert gone(pid)
    qtbot.waitUntil(lambda: not one.running, timeout=TIMEOUT)
    assert one.model is not None, (one.status.value, error_messages())
    assert one.model.info.training["epochs_run"] == 2


@pytest.mark.slow
def test_free_memory_ends_the_process_and_run_data_reopen_as_layers(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    train = _train_dock(viewer, epochs=1)
    painted = viewer.layers["nuclei masks"].data.copy()
    train.train_button.native.click()
    qtbot.waitUntil(lambda: "step" in train.status.value, timeout=TIMEOUT)
    viewer.layers["nuclei masks"].data[:10] = 7  # an edit after the run started
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.model is not None, error_messages()
    pid = train.process.pid
    train.free_button.native.click()
    assert gone(pid) and "memory given back" in train.status.value

    _, runs = viewer.window.add_plugin_dock_widget("napari-segdl", "Runs")
    runs.table.native.selectRow(0)
    runs.data_button.native.click()
    qtbot.waitUntil(lambda: not runs.running, timeout=TIMEOUT)
    run_id = train.last_run.id
    kept = viewer.layers[f"nuclei masks (run {run_id})"].data
    np.testing.assert_array_equal(kept, painted)  # as it was when the run started
    np.testing.assert_array_equal(
        viewer.layers[f"nuclei (run {run_id})"].data, viewer.layers["nuclei"].data
    )


@pytest.mark.slow
def test_run_data_over_the_cap_are_not_kept_and_the_user_is_told(make_napari_viewer, qtbot):
    from napari.utils.notifications import notification_manager

    viewer = make_napari_viewer()
    train = _train_dock(viewer, epochs=1)
    train.keep_data.value = 0
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=TIMEOUT)
    assert train.model is not None, error_messages()
    told = [str(n.message) for n in notification_manager.records]
    assert any("This run's data" in m and "are not kept with it" in m for m in told)
    assert RunLog().runs()[-1]["data_file"] is None
    _, runs = viewer.window.add_plugin_dock_widget("napari-segdl", "Runs")
    runs.table.native.selectRow(0)
    runs.data_button.native.click()
    assert any("has no data kept (over the size cap)" in e for e in error_messages())


VIEWER_SCRIPT = """
import sys, time
import napari
from qtpy.QtWidgets import QApplication

def wait(dock):
    while dock.running:
        QApplication.processEvents()
        time.sleep(0.02)

if __name__ == "__main__":
    viewer = napari.Viewer(show=False)
    viewer.open_sample("napari-segdl", "nuclei")
    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    row = train.pairs.rows[0]
    row.image.value, row.labels_layer.value = viewer.layers["nuclei"], viewer.layers["nuclei masks"]
    train.epochs.value, train.patch.value, train.filters.value, train.depth.value = 1, 64, 8, 2
    train.train_button.native.click()
    wait(train)
    assert train.model is not None, train.status.value
    _, predict = viewer.window.add_plugin_dock_widget("napari-segdl", "Predict")
    predict.images.value = [viewer.layers["nuclei"]]
    predict.predict_button.native.click()
    wait(predict)
    assert "nuclei prediction" in viewer.layers, predict.status.value
    print(sorted(m for m in ("tensorflow", "keras") if m in sys.modules))
"""


@pytest.mark.slow
def test_the_viewer_trains_and_predicts_without_importing_tensorflow(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "viewer.py"
    script.write_text(VIEWER_SCRIPT)
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
