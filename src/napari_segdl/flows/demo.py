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
    """One round of the loop where the bundled nuclei model is weak: stained tissue.

    The model predicts three stained-tissue sample images and is scored (pooled); a fourth
    stands for the image a user corrected (its ground truth as the corrections): the model is
    adapted to it (levels and scale, no training), then fine-tuned for ``seconds``, and
    predicts the three again. The fluorescence sample shows what it kept of what it knew. No
    sample image was in the bundled model's training data. Returns the scores: bundled,
    adapted, fine-tuned (tissue) and the fluorescence sample's before and after.
    """
    from .._sample_data import TISSUE_COUNT, nuclei_arrays, tissue_arrays
    from ..core.bundle import load_model
    from ..core.evaluate.semantic import evaluate
    from ..core.infer.predict import predict
    from ..core.train.adapt import adapt
    from ..core.train.api import train
    from ..io.files import write_tiff

    samples = [tissue_arrays(i) for i in range(TISSUE_COUNT)]
    corrected, tests = samples[0], samples[1:]
    images, labels = [corrected["image"]], [corrected["instances"]]
    fluorescence = nuclei_arrays(0)
    start = time.monotonic()
    model = load_model("nuclei")

    def score(m, chosen=tests):
        found = [predict(m, sample["image"]) for sample in chosen]
        return found, evaluate(found, [sample["instances"] for sample in chosen], instance=True)

    before, first = score(model)
    print(
        f"Bundled nuclei model on {len(tests)} stained-tissue sample images (a kind it is weak "
        f"on, not in its training data): F1@0.5 {first['f1_50']:.3f}, AP 0.5:0.95 "
        f"{first['ap50_95']:.3f} ({time.monotonic() - start:.0f} s)"
    )
    adapted = adapt(model, images, labels)
    record, (_, fit) = adapted.info.run.adapted, score(adapted)
    print(
        f"Adapted to 1 corrected tissue image (scale {record['scale']:g}, levels "
        f"{record['seed']:g}/{record['extent']:g}; no training): F1@0.5 {fit['f1_50']:.3f}"
    )
    print(f"Correction round: fine-tuning on it for {seconds:.0f} s...")
    tuned = train(images, labels, initial=model, max_time=seconds, callback=TrainingBar())
    after, second = score(tuned)
    run = tuned.info.run
    steps = run.epochs_run * run.steps_per_epoch
    print(
        f"{steps} training steps in {run.seconds:.0f} s (a busy machine gets fewer)"
        + (f"; {run.start_outcome}" if run.start_outcome else "")
    )
    kept = {name: score(m, [fluorescence])[1] for name, m in (("before", model), ("after", tuned))}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tuned.save(out / "nuclei-fine-tuned.keras")
    write_tiff(out / "tissue_1_bundled.tif", before[0])
    write_tiff(out / "tissue_1_fine_tuned.tif", after[0])
    print(
        f"After one correction round: F1@0.5 {second['f1_50']:.3f} (was {first['f1_50']:.3f}), "
        f"AP 0.5:0.95 {second['ap50_95']:.3f} (was {first['ap50_95']:.3f}); on the "
        f"fluorescence sample (what it knew) F1@0.5 {kept['after']['f1_50']:.3f} (was "
        f"{kept['before']['f1_50']:.3f})"
    )
    print(f"Model and masks written to {out}/")
    return {"bundled": first, "adapted": fit, "fine_tuned": second, "fluorescence": kept}


def demo(out: str | os.PathLike, epochs: int = 40, max_time: float = 180.0) -> dict:
    """Train on three bundled nuclei images, predict the fourth, write both to ``out``.

    Returns the evaluation of the held-out image (see :func:`napari_segdl.evaluate`).
    """
    from .._sample_data import SAMPLE_COUNT, nuclei_arrays
    from ..core.evaluate.semantic import evaluate
    from ..core.infer.predict import predict
    from ..core.train.api import train
    from ..io.files import write_tiff

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
    write_tiff(out / "nuclei_0_prediction.tif", prediction)
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
