"""``napari-segdl demo``: the bundled nuclei model on the sample, then one correction round;
or (``--from-scratch``) a small U-Net trained on the sample."""

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


def correction_demo(out: str | os.PathLike, seconds: float = 60.0) -> dict:
    """Predict the sample image with the bundled nuclei model and score it; then one round of
    the loop: the corrected masks of the three other sample images (their ground truth stands
    for a user's corrections) fine-tune the model for ``seconds``, and it predicts again.

    The sample images were left out of the bundled model's training. Returns both scores.
    """
    from .._sample_data import SAMPLE_COUNT, nuclei_arrays
    from ..core.bundle import load_model
    from ..core.evaluate.semantic import evaluate
    from ..core.infer.predict import predict
    from ..core.train.api import train
    from ..io.files import write_labels

    samples = [nuclei_arrays(i) for i in range(SAMPLE_COUNT)]
    test, corrected = samples[0], samples[1:]
    start = time.monotonic()
    model = load_model("nuclei")
    before = predict(model, test["image"])
    first = evaluate(before, test["instances"], instance=True)
    print(
        f"Bundled nuclei model on the sample image (not in its training data): F1@0.5 "
        f"{first['f1_50']:.3f}, AP 0.5:0.95 {first['ap50_95']:.3f}, {before.max()} nuclei "
        f"found of {test['instances'].max()} ({time.monotonic() - start:.0f} s)"
    )
    print(
        f"Correction round: fine-tuning on {len(corrected)} corrected images for {seconds:.0f} s..."
    )
    tuned = train(
        [s["image"] for s in corrected],
        [s["instances"] for s in corrected],
        initial=model,
        preset="fine-tune",
        max_time=seconds,
        callback=TrainingBar(),
    )
    after = predict(tuned, test["image"])
    second = evaluate(after, test["instances"], instance=True)
    training = tuned.info.training
    adapted = training.get("adapted") or {}
    steps = training["epochs_run"] * training["steps_per_epoch"]
    print(
        f"{steps} training steps in {training['seconds']:.0f} s (a busy machine gets fewer); "
        f"adapted first to scale {adapted.get('scale', 1.0)}, levels {adapted.get('seed')}/"
        f"{adapted.get('extent')}"
        + (f"; {training['kept_start']}" if training.get("kept_start") else "")
    )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tuned.save(out / "nuclei-fine-tuned.keras")
    write_labels(out / "nuclei_0_bundled.tif", before)
    write_labels(out / "nuclei_0_fine_tuned.tif", after)
    print(
        f"After one correction round: F1@0.5 {second['f1_50']:.3f} (was {first['f1_50']:.3f}), "
        f"AP 0.5:0.95 {second['ap50_95']:.3f} (was {first['ap50_95']:.3f})"
    )
    print(f"Model and masks written to {out}/")
    return {"bundled": first, "fine_tuned": second}


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
