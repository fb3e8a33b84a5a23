"""``napari-segdl demo``: the bundled nuclei model on the sample, then one correction round;
or (``--from-scratch``) a small U-Net trained on the sample."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

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


def right_half(model) -> tuple:
    """``model``'s objects on the tissue section's right half (predicted on the whole section,
    as a user would) and their instance scores against its nuclei there."""
    from .._sample_data import SECTION_CORRECTED, section_arrays
    from ..core.evaluate.semantic import evaluate
    from ..core.infer.predict import predict

    sample, cut = section_arrays(), SECTION_CORRECTED
    found = predict(model, sample["image"])[:, cut:]
    return found, evaluate(found, sample["instances"][:, cut:], instance=True)


def section_round(seconds: float = 60.0, seed: int = 0, callback=None) -> dict:
    """The demo's correction round, without printing: the bundled nuclei model on the tissue
    section sample (fluorescence nuclei of a tissue it is weak on, from a data set's test split
    it never trained on). Its left half stands for what a user corrected; its right half, which
    no training sees, is scored before and after. The model is adapted to the corrections
    (levels and scale, no training), then fine-tuned on them for ``seconds`` (as ``train(...,
    initial=model)`` does: adapting, replaying what it knew, kept unless an epoch beats it on
    held-out corrected blocks). Returns the models, the right half's predictions and scores
    (``bundled``, ``adapted``, ``fine_tuned``), the corrected objects and the steps run."""
    from .._sample_data import SECTION_CORRECTED, section_arrays
    from ..core.bundle import load_model
    from ..core.train.adapt import adapt
    from ..core.train.api import train

    sample, cut = section_arrays(), SECTION_CORRECTED
    corrected = [sample["image"][:, :cut]], [sample["corrections"][:, :cut]]
    model = load_model("nuclei")
    before, bundled = right_half(model)
    adapted = adapt(model, *corrected)
    tuned = train(*corrected, initial=model, max_time=seconds, seed=seed, callback=callback)
    after, fine_tuned = right_half(tuned)
    run = tuned.info.run
    return {
        "model": model,
        "adapted_model": adapted,
        "tuned": tuned,
        "predictions": (before, after),
        "bundled": bundled,
        "adapted": right_half(adapted)[1],
        "fine_tuned": fine_tuned,
        "objects": int(np.unique(corrected[1][0]).size - 1),
        "steps": run.epochs_run * run.steps_per_epoch,
        "seconds": run.seconds,
        "outcome": run.start_outcome,
    }


def correction_demo(out: str | os.PathLike, seconds: float = 60.0) -> dict:
    """One round of the loop where the bundled nuclei model is weak (:func:`section_round`),
    printed as it goes, then what it kept of what it knew (the fluorescence samples); the
    fine-tuned model and the section's masks before and after are written to ``out``. Returns
    the scores: bundled, adapted, fine-tuned (the section's right half) and the fluorescence
    samples' before and after."""
    from .._sample_data import SAMPLE_COUNT, nuclei_arrays
    from ..core.evaluate.semantic import evaluate
    from ..core.infer.predict import predict
    from ..io.files import write_tiff

    print(
        "Correction round on a fluorescence tissue section (S-BSST265; a kind the bundled nuclei "
        "model is weak on, an image it never trained on): its left half's nuclei stand for your "
        f"corrections, its right half is scored. Fine-tuning for {seconds:.0f} s...",
        flush=True,
    )
    started = time.monotonic()
    result = section_round(seconds, callback=TrainingBar())
    first, fit, second = result["bundled"], result["adapted"], result["fine_tuned"]
    record = result["adapted_model"].info.run.adapted
    print(
        f"Bundled nuclei model on the right half: F1@0.5 {first['f1_50']:.3f}, AP 0.5:0.95 "
        f"{first['ap50_95']:.3f}; adapted to the {result['objects']} corrected nuclei (scale "
        f"{record['scale']:g}, levels {record['seed']:g}/{record['extent']:g}; no training): "
        f"F1@0.5 {fit['f1_50']:.3f}"
    )
    print(
        f"{result['steps']} training steps in {result['seconds']:.0f} s (a busy machine gets "
        "fewer)" + (f"; {result['outcome']}" if result["outcome"] else "")
    )
    fluorescence = [nuclei_arrays(i) for i in range(SAMPLE_COUNT)]
    truths = [sample["instances"] for sample in fluorescence]
    kept = {
        name: evaluate([predict(m, s["image"]) for s in fluorescence], truths, instance=True)
        for name, m in (("before", result["model"]), ("after", result["tuned"]))
    }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result["tuned"].save(out / "nuclei-fine-tuned.keras")
    write_tiff(out / "section_right_bundled.tif", result["predictions"][0])
    write_tiff(out / "section_right_fine_tuned.tif", result["predictions"][1])
    print(
        f"After one correction round, on the right half (not trained on): F1@0.5 "
        f"{second['f1_50']:.3f} (was {first['f1_50']:.3f}), AP 0.5:0.95 {second['ap50_95']:.3f} "
        f"(was {first['ap50_95']:.3f}); on the {SAMPLE_COUNT} fluorescence samples (what it knew) "
        f"F1@0.5 {kept['after']['f1_50']:.3f} (was {kept['before']['f1_50']:.3f}) "
        f"({time.monotonic() - started:.0f} s in all)"
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
