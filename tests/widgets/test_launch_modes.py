"""The Train dock trains however napari was started: the worker process is ``spawn``ed, which
would run the user's script again in the child unless the child is kept from it. Each launch
mode is a real process under Xvfb that opens the sample, trains two epochs through the dock,
prints the dock's status and exits."""

import os
import subprocess
import sys
import textwrap

import pytest

from helpers import sample_train_dock

pytestmark = [pytest.mark.slow, pytest.mark.gui]

DRIVE = """
import sys, time
import napari
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QApplication


def press_train(viewer):
    viewer.open_sample("napari-segdl", "nuclei")
    _, train = viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    row = train.pairs.rows[0]
    row.image.value = viewer.layers["nuclei"]
    row.labels_layer.value = viewer.layers["nuclei masks"]
    train.epochs.value, train.patch.value, train.filters.value, train.depth.value = 2, 64, 8, 2
    train.train_button.native.click()
    return train


def report(train):
    print("TRAINED" if train.model is not None else "FAILED", "|", train.status.value, flush=True)


def close_when_trained(viewer, train):
    # a timer of the event loop: report and close the viewer once training has ended

    def check():
        if not train.running and viewer.window._qt_window.isVisible():
            timer.stop()
            report(train)
            viewer.close()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(100)
    return timer


def wait(train):
    started = time.monotonic()
    while train.running and time.monotonic() - started < {wait_s}:
        QApplication.processEvents()
        time.sleep(0.02)
"""

#: napari's own examples: a viewer at module level, napari.run() at the end.
EVENT_LOOP = """
viewer = napari.Viewer()
train = press_train(viewer)
timer = close_when_trained(viewer, train)
napari.run()
"""

#: A script the napari command opens: its viewer, whose event loop napari runs afterwards.
IN_NAPARI = """
viewer = napari.current_viewer()
train = press_train(viewer)
timer = close_when_trained(viewer, train)
"""

#: Interactive sessions (IPython, Jupyter): the caller waits.
WAITING = """
viewer = napari.Viewer()
train = press_train(viewer)
wait(train)
report(train)
viewer.close()
"""

#: How long an interactive session waits for training before it reports and closes.
WAIT_S = 240
DRIVE = DRIVE.replace("{wait_s}", str(WAIT_S))
GUARDED = "if __name__ == '__main__':\n" + textwrap.indent(EVENT_LOOP, "    ")


def _environment(tmp_path) -> dict:
    return {**os.environ, "NAPARI_SEGDL_RUNS": str(tmp_path / "runs.jsonl"), "PYTHONPATH": ""}


def _jupyter_kernel(tmp_path) -> str:
    """Run the waiting body in a real IPython kernel, ``%gui qt`` first; its printed lines."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", env=_environment(tmp_path))
    lines = []
    try:  # one cell: a cell sent as ipykernel enters its Qt loop after "%gui qt" can wait
        # unseen until another message comes (ipython/ipython#7039, spyder#21299): it hung CI
        try:
            reply = client.execute_interactive(  # longer than the cell's own wait
                "%gui qt\n" + DRIVE + WAITING,
                timeout=WAIT_S + 180,
                output_hook=lambda m: lines.append(m),
            )
        except TimeoutError:
            pytest.fail(f"no reply from the kernel: {_printed(lines)[-3000:]}")
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return _printed(lines)


def _printed(messages) -> str:
    return "".join(m["content"].get("text", "") for m in messages if m["msg_type"] == "stream")


def _command(mode: str, tmp_path) -> list[str]:
    script = tmp_path / "launch.py"
    body = {"script": EVENT_LOOP, "guarded": GUARDED, "napari": IN_NAPARI}.get(mode, WAITING)
    script.write_text(DRIVE + body)
    if mode in ("script", "guarded"):
        return [sys.executable, str(script)]
    if mode == "module":  # python -m launchpkg
        package = tmp_path / "launchpkg"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "__main__.py").write_text(DRIVE + EVENT_LOOP)
        return [sys.executable, "-m", "launchpkg"]
    if mode == "napari":  # the napari command opens (runs) the script in its viewer
        return [sys.executable, "-m", "napari", str(script)]
    # IPython running the script with Qt's event loop integrated (%gui qt)
    return [sys.executable, "-m", "IPython", "--quick", "--no-banner", "--gui=qt", str(script)]


@pytest.mark.parametrize("mode", ["script", "guarded", "module", "napari", "ipython", "jupyter"])
def test_the_dock_trains_however_napari_was_started(mode, tmp_path):
    if mode == "jupyter":
        out = _jupyter_kernel(tmp_path)
    else:
        done = subprocess.run(
            _command(mode, tmp_path),
            cwd=tmp_path,
            env=_environment(tmp_path),
            capture_output=True,
            text=True,
            timeout=300,
        )
        out = done.stdout
        assert done.returncode == 0, done.stderr[-3000:]
    assert "TRAINED |" in out, out[-3000:]
    assert "bootstrapping phase" not in out


@pytest.mark.usefixtures("fresh_session")
def test_a_worker_that_fails_at_start_is_said_and_train_works_again(
    make_napari_viewer, qtbot, tmp_path, monkeypatch
):
    (tmp_path / "sitecustomize.py").write_text(  # an install broken for new processes only
        "import os, sys\nsys.stderr.write('ImportError: libcudart.so.12: cannot open\\n')\n"
        "sys.stderr.flush()\nos._exit(1)\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    train = sample_train_dock(make_napari_viewer())
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=120_000)
    status = train.status.value
    assert "exited before it was ready" in status and "libcudart.so.12" in status, status
    monkeypatch.delenv("PYTHONPATH")
    train.train_button.native.click()
    qtbot.waitUntil(lambda: not train.running, timeout=300_000)
    assert train.model is not None, train.status.value
