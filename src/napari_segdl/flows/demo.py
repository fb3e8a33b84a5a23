"""``napari-segdl demo``: train a small U-Net on the bundled sample and score a held-out image."""

from __future__ import annotations

import os
import time
from pathlib import Path

from .console import TrainingBar

#: A network and schedule that learn the bundled nuclei in a few CPU minutes.
DEMO_PARAMS = {
    "patch": 128,
    "batch": 8,
    "filters": 16,
    "depth": 3,
    "lr": 2e-3,
    "val_fraction": 0.25,
    "steps_per_epoch": 10,
    "patience": 15,
}


def demo(out: str | os.PathLike, epochs: int = 40, max_time: float = 180.0) -> dict:
    """Train on three bundled nuclei images, predict the fourth, write both to ``out``.

    Returns the evaluation of the held-out image (see :func:`napari_segdl.evaluate`).
    """
    from .._sample_data import SAMPLE_COUNT, nuclei_arrays
    from ..core.evaluate.semantic import evaluate
    from ..core.infer.predict import predict
    from ..core.train.api import train
    from ..io.files import write_labels

    samples = [nuclei_arrays(i) for i in range(SAMPLE_COUNT)]
    train_set, test = samples[1:], samples[0]
    print(
        f"Training a small U-Net on {len(train_set)} bundled nuclei images "
        f"(up to {epochs} epochs or {max_time:.0f} s)..."
    )
    start = time.monotonic()
    model = train(
        [s["image"] for s in train_set],
        [s["masks"] for s in train_set],
        class_names=["background", "nucleus"],
        callback=TrainingBar(),
        epochs=epochs,
        max_time=max_time,
        **DEMO_PARAMS,
    )
    prediction = predict(model, test["image"])
    score = evaluate(prediction, test["masks"])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "nuclei-unet.keras")
    write_labels(out / "nuclei_0_prediction.tif", prediction)
    print(
        f"Held-out image nuclei_0: nucleus IoU {score['iou']['per_class']['1']:.3f}, "
        f"mean IoU {score['iou']['mean']:.3f}, pixel accuracy "
        f"{score['pixel_accuracy']['overall']:.3f} ({time.monotonic() - start:.0f} s)"
    )
    print(f"Model and prediction written to {out}/")
    return score


def demo_gui() -> None:
    """Open napari with the bundled sample and the Train and Predict docks."""
    import napari

    viewer = napari.Viewer(title="napari-segdl demo")
    viewer.open_sample("napari-segdl", "nuclei")
    viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
    viewer.window.add_plugin_dock_widget("napari-segdl", "Predict")
    napari.run()
