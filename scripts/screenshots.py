"""Regenerate the screenshots in docs/images from a real napari window.

    xvfb-run -a python scripts/screenshots.py      # Linux without a display
    python scripts/screenshots.py                  # with a display

Opens napari with the bundled nuclei sample, drives each dock as a user would (a small, fast
training run), and saves one window screenshot per dock.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import imageio.v3 as iio
import napari
from qtpy.QtWidgets import QApplication

OUT = Path(__file__).resolve().parents[1] / "docs" / "images"


def wait(condition, timeout=600.0) -> None:
    """Let the event loop run until ``condition()`` holds (workers report through it)."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            sys.exit(f"timed out waiting for {condition}")
        QApplication.processEvents()
        time.sleep(0.05)


def shoot(viewer, name: str) -> None:
    viewer.reset_view()
    for _ in range(20):  # let the dock and canvas repaint
        QApplication.processEvents()
        time.sleep(0.02)
    viewer.screenshot(str(OUT / f"{name}.png"), canvas_only=False)
    print(f"wrote docs/images/{name}.png")


def dock(viewer, name: str):
    widget, inner = viewer.window.add_plugin_dock_widget("napari-segdl", name)
    return widget, inner


def main() -> None:
    os.environ.setdefault("NAPARI_SEGDL_RUNS", str(Path(tempfile.mkdtemp()) / "runs.jsonl"))
    OUT.mkdir(parents=True, exist_ok=True)
    viewer = napari.Viewer(title="napari-segdl")
    viewer.window.resize(1500, 950)
    viewer.open_sample("napari-segdl", "nuclei")
    image, masks = viewer.layers["nuclei"], viewer.layers["nuclei masks"]
    viewer.layers["nuclei scribbles"].visible = False

    frame, pre = dock(viewer, "Preprocess")
    pre.image.value = image
    for op, params in (("resize", {"factor": 0.5}), ("gaussian", {"sigma": 1.0})):
        pre.operation.value = op
        pre.add_button.native.click()
        for key, value in params.items():
            pre.params[key].value = value
    pre.preview.value = True
    wait(lambda: "nuclei preview" in viewer.layers)
    shoot(viewer, "preprocess")
    viewer.layers.remove("nuclei preview")
    viewer.window.remove_dock_widget(frame)

    frame, train = dock(viewer, "Train")
    train.image.value, train.labels_layer.value = image, masks
    train.epochs.value, train.patch.value, train.batch.value = 12, 64, 8
    train.filters.value, train.depth.value, train.lr.value = 8, 2, 0.003
    train.live_preview.value = True  # the plot fills and "nuclei preview" follows each epoch
    train.train_button.native.click()
    wait(lambda: not train.running and "best epoch" in train.status.value)
    train.save_path.value = Path(tempfile.mkdtemp()) / "nuclei.keras"
    train.save_button.native.click()
    shoot(viewer, "train")
    viewer.layers.remove("nuclei preview")
    viewer.window.remove_dock_widget(frame)

    frame, predict = dock(viewer, "Predict")
    predict.images.value = [image]
    predict.predict_button.native.click()
    wait(lambda: not predict.busy and "nuclei prediction" in viewer.layers)
    masks.visible = False
    shoot(viewer, "predict")
    viewer.window.remove_dock_widget(frame)

    frame, evaluate = dock(viewer, "Evaluate")
    evaluate.prediction.value = viewer.layers["nuclei prediction"]
    evaluate.truth.value = masks
    evaluate.show_errors.value = True
    evaluate.evaluate_button.native.click()
    wait(lambda: not evaluate.busy and "nuclei prediction false negatives" in viewer.layers)
    viewer.layers["nuclei prediction"].visible = False
    shoot(viewer, "evaluate")
    viewer.window.remove_dock_widget(frame)

    dock(viewer, "Runs")
    shoot(viewer, "runs")

    viewer.close()
    for path in sorted(OUT.glob("*.png")):
        pixels = iio.imread(path)
        print(f"{path.name}: {pixels.shape[1]} x {pixels.shape[0]}")


if __name__ == "__main__":
    main()
