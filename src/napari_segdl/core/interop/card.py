"""What a BioImage Model Zoo package says about a napari-segdl model: the model card, the cover
picture, napari-segdl's own configuration, and the recipe steps the spec cannot express."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..bundle import SegModel
from ..labels.heads import head_of


def unsupported_steps(model: SegModel) -> list[str]:
    """The recipe's steps, none of which the spec's preprocessing expresses (resize, denoise,
    colour order, ...): the package's input is the image after them."""
    return [step.get("op", "?") for step in (model.info.recipe or {}).get("steps", [])]


def package_config(model: SegModel) -> dict:
    """napari-segdl's description of the outputs, for tools that read ``config``."""
    from ..infer.engine import instance_options

    classes = model.class_map
    config = {
        "label_mode": classes.mode,
        "label_values": [int(v) for v in classes.values],
        "class_names": list(classes.names),
        "labels_from_probabilities": "argmax over the class channels, mapped to label_values",
        "arch": model.info.arch,
        "arch_params": dict(model.info.arch_params),
        "recipe": model.info.recipe or {},
        "normalization": dict(model.info.normalization),
    }
    if classes.mode == "instance":
        options = instance_options(model)
        flows = head_of(model.info.arch_params) == "flow" and options["group"] == "flows"
        config["instance_postprocessing"] = {
            "method": "pixels follow the flow channels, grouped where they end"
            if flows
            else "seeded watershed on the object (or distance) channel",
            "seed_level": options["seed"],
            "extent_level": options["extent"],
            "min_size": options["min_size"],
            **({"flow_error_level": options["max_error"]} if flows else {}),
        }
    return config


def model_card(model: SegModel, formats, warnings: list[str]) -> str:
    """The package's documentation (Markdown), with the Validation section the spec asks for."""
    info, classes = model.info, model.class_map
    run = info.run
    history = info.history or {}
    best = run.best_epoch
    val_iou = (history.get("val_iou") or [None] * max(best or 1, 1))[(best or 1) - 1]
    steps = unsupported_steps(model)
    lines = [
        f"# {info.arch} ({model.geometry.dims}D, {classes.mode}) from napari-segdl",
        "",
        "Exported from a napari-segdl model bundle. Input: the image with channels last, scaled "
        f"per channel between its {model.normalization.low} and {model.normalization.high} "
        "percentiles (`scale_range`). Output: the probability of each class, channels last.",
        "",
        "## Classes and labels",
        "",
        "| channel | class | label value |",
        "| --- | --- | --- |",
        *[
            f"| {i} | {name} | {value} |"
            for i, (name, value) in enumerate(zip(classes.names, classes.values, strict=True))
        ],
        "",
        f"Label mode `{classes.mode}`: labels are the argmax of the class channels mapped to the "
        "label values above.",
    ]
    if classes.mode == "instance":
        config = package_config(model)["instance_postprocessing"]
        how = (
            f"seeds are connected object interiors (or distance peaks) above "
            f"{config['seed_level']}, grown by a watershed"
        )
        if "flow_error_level" in config:
            how = (
                "the last two channels are a flow (dy, dx) towards each object's centre; each "
                "foreground pixel follows it for 200 unit steps, and the pixels that end at one "
                "place form one object; an object whose flows differ from its own shape's by more "
                f"than {config['flow_error_level']} (mean squared difference) is dropped"
            )
        lines += [
            f"Instance IDs: {how}; objects extend over the foreground (1 - background) above "
            f"{config['extent_level']}, and objects under {config['min_size']} pixels are "
            "dropped.",
        ]
    lines += ["", "## Preprocessing", ""]
    if steps:
        lines += [
            "The model was trained on images after these napari-segdl recipe steps, which the "
            f"package cannot express: **{', '.join(steps)}**. Apply them before running the "
            "package elsewhere (the recipe is in `config.napari_segdl.recipe`).",
        ]
    else:
        lines += ["None beyond the percentile scaling above."]
    lines += [
        "",
        "## Training",
        "",
        f"Network parameters: `{info.arch_params}`. Epochs run: {run.epochs_run}, "
        f"best epoch {best}; training pairs: {run.pairs}; device: {run.device or 'unknown'}.",
        "",
        "## Validation",
        "",
        f"Validation IoU at the best epoch (held-out blocks of the training images): {val_iou}. "
        "The package's test tensors come from a real image; validate the model on images of "
        "your own with ground truth before relying on it.",
        "",
        f"Weight formats: {', '.join(formats)}.",
    ]
    if warnings:
        lines += ["", "## Notes", "", *[f"- {w}" for w in warnings]]
    return "\n".join(lines) + "\n"


def cover_picture(model: SegModel, test_input, test_output, path: Path) -> Path:
    """The prediction over the test image (the middle slice of a volume), side by side."""
    import imageio.v3 as iio
    from skimage.color import label2rgb

    image = np.asarray(test_input[0], dtype=np.float32)
    scores = np.asarray(test_output[0])
    if model.geometry.dims == 3:
        image, scores = image[image.shape[0] // 2], scores[scores.shape[0] // 2]
    grey = image[..., 0] if image.shape[-1] != 3 else image.mean(-1)
    lo, hi = np.percentile(grey, [1, 99.8])
    grey = np.clip((grey - lo) / max(hi - lo, 1e-6), 0, 1)
    labels = scores[..., : model.class_map.num_classes].argmax(-1)
    overlay = label2rgb(labels, image=grey, bg_label=0, alpha=0.4)
    picture = np.concatenate([np.dstack([grey] * 3), overlay], axis=1)
    iio.imwrite(path, (picture * 255).astype(np.uint8))
    return path
