"""Training: from (image, labels) pairs to a :class:`SegModel`, one step at a time."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .backend import load_keras
from .bundle import ModelInfo, SegModel
from .checkpoints import checkpoint_path, save_checkpoint
from .config import TrainConfig
from .data import PatchSampler, TrainingData, pad_to_patch, split_validation
from .errors import SegDLError
from .images import Normalization, as_channels_last
from .labels import IGNORE, ClassMap, as_label_array
from .metrics import confusion_matrix, iou_from_confusion

StopRequest = Callable[[], bool]


@dataclass
class TrainingEvent:
    """Progress of a training run, yielded after every step and every epoch.

    ``kind`` is "start", "step", "epoch" or "end". ``epoch`` counts from 1. ``reason``
    says why training ended ("completed", "stopped", "time budget", "early stopping").
    """

    kind: str
    model: SegModel
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    steps: int = 0
    loss: float | None = None
    val_loss: float | None = None
    val_iou: float | None = None
    best_epoch: int = 0
    elapsed: float = 0.0
    eta: float | None = None
    reason: str | None = None


def prepare_pairs(
    images: Sequence, labels: Sequence, mode: str, sources=None, class_names=None, class_map=None
):
    """Validate the pairs; returns (images, targets, class map, channels, training extras).

    A given ``class_map`` (continuing a model) is kept: label values outside it are refused.
    """
    if len(images) == 0:
        raise SegDLError("No training data: give at least one (image, labels) pair.")
    if len(images) != len(labels):
        raise SegDLError(
            f"{len(images)} images but {len(labels)} label images; give them in pairs."
        )
    sources = sources or [(f"image {i}", f"labels {i}") for i in range(len(images))]
    arrays = [as_channels_last(im, name) for im, (name, _) in zip(images, sources, strict=True)]
    label_arrays = [
        as_label_array(lab, name) for lab, (_, name) in zip(labels, sources, strict=True)
    ]
    for image, label, (image_name, label_name) in zip(arrays, label_arrays, sources, strict=True):
        if image.shape[:2] != label.shape:
            raise SegDLError(
                f"{image_name} has shape {image.shape[:2]} but {label_name} has shape "
                f"{label.shape}; paint the labels on the same grid as the image."
            )
        if mode == "sparse" and not label.any():
            raise SegDLError(
                f"{label_name}: nothing is painted; paint some pixels or leave this pair out."
            )
    channels = {a.shape[-1] for a in arrays}
    if len(channels) > 1:
        raise SegDLError(f"The images have different channel counts {sorted(channels)}.")
    class_map = class_map or ClassMap.from_labels(label_arrays, mode, class_names)
    targets = [
        class_map.encode(lab, name) for lab, (_, name) in zip(label_arrays, sources, strict=True)
    ]
    extra = {}
    if mode == "instance":  # predictions drop objects much smaller than the painted ones
        from .instance_mode import min_object_size

        extra["instance_min_size"] = min_object_size(label_arrays)
    return arrays, targets, class_map, channels.pop(), extra


def iter_training(
    images: Sequence,
    labels: Sequence,
    config: TrainConfig,
    *,
    sources: Sequence[tuple[str, str]] | None = None,
    class_names: Sequence[str] | None = None,
    stop: StopRequest | None = None,
    recipe=None,
    initial: SegModel | None = None,
) -> Generator[TrainingEvent, None, SegModel]:
    """Train step by step, yielding a :class:`TrainingEvent` after each step and epoch.

    ``stop()`` is asked after every step; when it returns True (or ``max_time`` has
    passed) training ends. The best weights so far are restored however training
    ends, even when the generator is closed early. Returns the trained model.
    ``recipe`` (the preprocessing the images went through) is stored in the model, so
    prediction on raw images applies it. With ``initial`` (a trained model), training continues
    from its weights, keeping its network, label mode, classes and recipe.
    """
    from .preprocess import Recipe

    recipe = Recipe.coerce(recipe if recipe or initial is None else initial.info.recipe)
    checkpoint = checkpoint_path(config.checkpoint_dir) if config.checkpoint_dir else None
    mode = initial.class_map.mode if initial is not None else config.mode
    arrays, targets, class_map, channels, extra = prepare_pairs(
        images,
        labels,
        mode,
        sources,
        class_names,
        class_map=initial.class_map if initial is not None else None,
    )
    if initial is not None and channels != initial.info.channels:
        raise SegDLError(
            f"The model was trained on images with {initial.info.channels} channel(s) but these "
            f"have {channels}: continue training on images like the ones it learned from "
            "(convert them, e.g. RGB to grey), or train a new model."
        )
    normalization = Normalization()
    padded = [
        pad_to_patch(normalization.apply(a), t, config.patch)
        for a, t in zip(arrays, targets, strict=True)
    ]
    rng = np.random.default_rng(config.seed)
    data = split_validation(
        [p[0] for p in padded], [p[1] for p in padded], config.patch, config.val_fraction, rng
    )
    steps = config.steps_per_epoch or _default_steps(data, config)

    keras = load_keras()

    from .backend import describe_devices
    from .losses import median_frequency_weights, segmentation_loss
    from .models import build_model

    keras.utils.set_random_seed(config.seed)
    if initial is None:
        arch = config.arch
        arch_params = {
            "depth": config.depth,
            "filters": config.filters,
            "batch_norm": config.batch_norm,
            "dropout": config.dropout,
        }
    else:
        arch, arch_params = initial.info.arch, dict(initial.info.arch_params)
    network = build_model(arch, channels, class_map.num_classes, **arch_params)
    extra["device"] = describe_devices()
    if checkpoint is not None:
        extra["checkpoint"] = str(checkpoint)
    weights = None
    if config.class_weights == "auto":
        weights = median_frequency_weights(data.targets, class_map.num_classes)
        extra["class_weights"] = [round(float(w), 4) for w in weights]
    if initial is not None:  # a copy of its weights: the model continued from stays as it was
        network.set_weights(initial.keras_model.get_weights())
        extra["continued_from"] = {
            "epochs_run": initial.info.training.get("epochs_run"),
            "pairs": initial.info.training.get("pairs"),
        }
    network.compile(
        optimizer=keras.optimizers.Adam(config.lr),
        loss=segmentation_loss(weights, dice=config.loss == "crossentropy+dice"),
        jit_compile=config.jit_compile,
    )
    info = ModelInfo(
        arch=arch,
        arch_params=arch_params,
        classes=class_map.to_dict(),
        channels=channels,
        normalization=normalization.to_dict(),
        patch=config.patch,
        recipe=recipe.to_dict() if recipe else {},
        training={
            **config.to_dict(),
            "mode": mode,
            "arch": arch,
            **arch_params,
            "pairs": len(arrays),
            "steps_per_epoch": steps,
            "validation_patches": len(data.val_images),
            **extra,
        },
    )
    model = SegModel(network, info)
    yield TrainingEvent("start", model, epochs=config.epochs, steps=steps)
    yield from _fit(model, data, config, steps, stop, checkpoint)
    return model


def _default_steps(data: TrainingData, config: TrainConfig) -> int:
    area = sum(t.size for t in data.targets)
    return int(np.clip(math.ceil(2 * area / (config.patch**2 * config.batch)), 8, 100))


def _eta(elapsed: float, done: int, total: int, max_time: float | None) -> float:
    """Seconds left at the current pace, capped by the time budget."""
    eta = elapsed / done * (total - done)
    return eta if max_time is None else min(eta, max(max_time - elapsed, 0.0))


def _train_epoch(
    model: SegModel, sampler, pool, epoch: int, steps: int, config, start, stop, best_epoch: int
):
    """Train one epoch step by step, yielding step events; returns (losses, reason)."""
    network = model.keras_model
    losses = []
    upcoming = pool.submit(sampler.batch_at, epoch, 0)
    for step in range(1, steps + 1):
        x, y = upcoming.result()
        if step < steps:  # the next batch is made while this step trains
            upcoming = pool.submit(sampler.batch_at, epoch, step)
        losses.append(float(network.train_on_batch(x, y, return_dict=True)["loss"]))
        elapsed = time.monotonic() - start
        eta = _eta(elapsed, (epoch - 1) * steps + step, config.epochs * steps, config.max_time)
        yield TrainingEvent(
            "step",
            model,
            epoch,
            config.epochs,
            step,
            steps,
            losses[-1],
            elapsed=elapsed,
            eta=eta,
            best_epoch=best_epoch,
        )
        if stop is not None and stop():
            return losses, "stopped"
        if config.max_time is not None and elapsed >= config.max_time:
            return losses, "time budget"
    return losses, "completed"


def _fit(model: SegModel, data: TrainingData, config: TrainConfig, steps: int, stop, checkpoint):
    network = model.keras_model
    sampler = PatchSampler(data, config.patch, config.batch, config.seed, config.augment)
    history = {"loss": [], "val_loss": [], "val_iou": []}
    best_score, best_epoch, best_weights = -np.inf, 0, None
    reason, start = "completed", time.monotonic()
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="segdl-patches") as pool:
            for epoch in range(1, config.epochs + 1):
                losses, reason = yield from _train_epoch(
                    model, sampler, pool, epoch, steps, config, start, stop, best_epoch
                )
                val_loss, val_iou = _validate(network, data, config.batch)
                for key, value in [
                    ("loss", float(np.mean(losses))),
                    ("val_loss", val_loss),
                    ("val_iou", val_iou),
                ]:
                    history[key].append(value)
                score = val_iou if val_iou is not None else -history["loss"][-1]
                if score > best_score:
                    best_score, best_epoch, best_weights = score, epoch, network.get_weights()
                    if checkpoint is not None:
                        save_checkpoint(model, checkpoint, history, epoch)
                elapsed = time.monotonic() - start
                yield TrainingEvent(
                    "epoch",
                    model,
                    epoch,
                    config.epochs,
                    steps,
                    steps,
                    loss=history["loss"][-1],
                    val_loss=val_loss,
                    val_iou=val_iou,
                    best_epoch=best_epoch,
                    elapsed=elapsed,
                    eta=_eta(elapsed, epoch, config.epochs, config.max_time),
                )
                if (
                    reason == "completed"
                    and config.patience
                    and epoch - best_epoch >= config.patience
                ):
                    reason = "early stopping"
                if reason != "completed":
                    break
    finally:
        if best_weights is not None:
            network.set_weights(best_weights)
        model.info.history = history
        model.info.training.update(
            epochs_run=len(history["loss"]),
            best_epoch=best_epoch,
            ended=reason,
            seconds=round(time.monotonic() - start, 1),
        )
    yield TrainingEvent(
        "end",
        model,
        len(history["loss"]),
        config.epochs,
        best_epoch=best_epoch,
        elapsed=time.monotonic() - start,
        reason=reason,
        loss=history["loss"][-1] if history["loss"] else None,
        val_iou=history["val_iou"][best_epoch - 1] if best_epoch else None,
    )


def _validate(network, data: TrainingData, batch: int) -> tuple[float | None, float | None]:
    """Masked cross-entropy and mean IoU of the network on the held-out patches."""
    if not len(data.val_images):
        return None, None
    num_classes = network.output_shape[-1]
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    nll, count = 0.0, 0
    for i in range(0, len(data.val_images), batch):
        probabilities = np.asarray(network.predict_on_batch(data.val_images[i : i + batch]))
        target = data.val_targets[i : i + batch]
        labelled = target != IGNORE
        truth, scores = target[labelled], probabilities[labelled]
        nll -= float(np.log(np.clip(scores[np.arange(truth.size), truth], 1e-7, 1)).sum())
        count += truth.size
        confusion += confusion_matrix(truth, scores.argmax(-1), num_classes)
    return nll / max(count, 1), float(np.nanmean(iou_from_confusion(confusion)))


def train(
    images,
    labels,
    *,
    class_names: Sequence[str] | None = None,
    sources: Sequence[tuple[str, str]] | None = None,
    callback: Callable[[TrainingEvent], None] | None = None,
    stop: StopRequest | None = None,
    recipe=None,
    initial: SegModel | None = None,
    **params,
) -> SegModel:
    """Train a segmentation model on painted labels.

    Parameters
    ----------
    images, labels : array or list of arrays
        One 2D image (Y, X) or (Y, X, C) and its labels (Y, X), or lists of pairs.
    class_names : list of str, optional
        A name for each painted label value, in increasing order of value.
    sources : list of (str, str), optional
        Names of each pair's image and labels, used in error messages.
    callback : callable, optional
        Called with every :class:`TrainingEvent`.
    stop : callable, optional
        Polled after every step; training ends (keeping the best weights) when it returns True.
    recipe : Recipe, dict or path, optional
        The preprocessing ``images`` went through (see :func:`napari_segdl.preprocess`); stored
        in the model and applied to raw images at prediction.
    initial : SegModel, optional
        Continue training this model (human in the loop: correct its predictions, train
        again): its network, label mode, classes and recipe are kept; label values it does not
        know, or images with other channels, are refused.
    **params
        Hyper-parameters of :class:`~napari_segdl.core.config.TrainConfig`: ``mode``,
        ``arch``, ``epochs``, ``patch``, ``batch``, ``filters``, ``depth``, ``lr``,
        ``val_fraction``, ``max_time``, ``seed``, ``patience``, ...

    Returns
    -------
    SegModel
        The trained model with the best weights; ``model.save(path)`` writes it.
    """
    if not isinstance(images, (list, tuple)):
        images, labels = [images], [labels]
    try:
        config = TrainConfig(**params)
    except TypeError as error:
        raise SegDLError(f"train(): {error}") from error
    run = iter_training(
        images,
        labels,
        config,
        sources=sources,
        class_names=class_names,
        stop=stop,
        recipe=recipe,
        initial=initial,
    )
    while True:
        try:
            event = next(run)
        except StopIteration as finished:
            return finished.value
        if callback is not None:
            callback(event)
