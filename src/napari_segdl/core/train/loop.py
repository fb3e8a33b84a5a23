"""The training loop: steps on sampled patches, validation, best weights, checkpoints."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..bundle import SegModel
from ..evaluate.semantic import confusion_matrix, iou_from_confusion
from ..infer.engine import predict_batch
from ..labels.heads import head_of
from ..labels.modes import IGNORE
from .checkpoints import save_checkpoint
from .config import TrainConfig
from .devices import out_of_memory_advice
from .guard import KEPT_START, StartGuard
from .sampling import PatchSampler, TrainingData, check_patches, training_patch

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


def default_steps(data: TrainingData, config: TrainConfig) -> int:
    """Steps that see every labelled image about twice per epoch, 8 to 100."""
    area = sum(t.size for t in data.targets)
    patch = math.prod(training_patch(config))
    return int(np.clip(math.ceil(2 * area / (patch * config.batch)), 8, 100))


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


class RateSchedule:
    """The learning rate between epochs (``config.lr_schedule``).

    ``plateau``: after ``max(2, patience // 3)`` epochs without a better score (3 when early
    stopping is off) the rate is halved, at most down to 1/64 of the start; the count starts
    again after every cut. ``cosine``: the rate follows half a cosine from the start down to
    1/64 of it, its progress the share of the epochs done or of the time budget spent,
    whichever is larger (a run of a fixed length). ``constant`` keeps the rate.
    """

    def __init__(self, network, config: TrainConfig):
        self.network = network
        self.kind = config.lr_schedule
        self.epochs, self.max_time = config.epochs, config.max_time
        self.wait = max(2, config.patience // 3) if config.patience else 3
        self.start = float(config.lr)
        self.lowest = config.lr / 64
        self.lr = float(config.lr)
        self._since_cut = 0

    def after_epoch(self, epochs_without_better: int, epoch: int = 0, elapsed: float = 0.0):
        if self.kind == "cosine":
            progress = epoch / self.epochs if self.epochs else 0.0
            if self.max_time:
                progress = max(progress, elapsed / self.max_time)
            turn = 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
            return self._set(self.lowest + (self.start - self.lowest) * turn)
        self._since_cut = 0 if epochs_without_better == 0 else self._since_cut + 1
        if self.kind != "plateau" or self._since_cut < self.wait or self.lr / 2 < self.lowest:
            return
        self._since_cut = 0
        self._set(self.lr / 2)

    def _set(self, lr: float) -> None:
        self.lr = lr
        self.network.optimizer.learning_rate.assign(lr)


def fit(
    model: SegModel, data: TrainingData, config: TrainConfig, steps: int, stop, checkpoint
) -> Generator[TrainingEvent, None, None]:
    """Train ``model`` on patches of ``data``, yielding events; ends with the best weights.

    A continued model (``continued_from`` in its training info) is scored first, as epoch 0 of
    the best-epoch choice: unless an epoch beats it on the validation patches (held-out
    corrected blocks; without any, fixed training blocks) by more than chance
    (:mod:`.guard`), its own weights come back, however the run ends (Stop, time limit).
    """
    network = model.keras_model
    continued = model.info.run.continued_from is not None
    if continued:
        data = check_patches(data, training_patch(config))
    sampler = PatchSampler(
        data,
        training_patch(config),
        config.batch,
        config.seed,
        config.augment,
        intensity=config.augment_intensity,
        deform=config.augment_deform,
        head=head_of(model.info.arch_params),
    )
    history = {"loss": [], "val_loss": [], "val_iou": [], "lr": []}
    schedule = RateSchedule(network, config)
    best_score, best_epoch, best_weights = -np.inf, 0, None
    guard = None
    if continued:  # the start is epoch 0: its weights stay until an epoch beats it
        best_weights = network.get_weights()
        start_loss, start_iou = _validate(model, data, config.batch)
        if start_iou is not None:
            guard = StartGuard(model, data, config.batch, start_loss, start_iou)
            history["start"] = guard.record
            best_score = guard.score
    reason, start = "completed", time.monotonic()
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="segdl-patches") as pool:
            for epoch in range(1, config.epochs + 1):
                losses, reason = yield from _train_epoch(
                    model, sampler, pool, epoch, steps, config, start, stop, best_epoch
                )
                if continued and epoch == 1 and reason == "stopped":
                    break  # Stop before the first epoch ended: the start comes back as it was
                val_loss, val_iou = _validate(model, data, config.batch)
                for key, value in [
                    ("loss", float(np.mean(losses))),
                    ("val_loss", val_loss),
                    ("val_iou", val_iou),
                ]:
                    history[key].append(value)
                history["lr"].append(schedule.lr)
                score = val_iou if val_iou is not None else -history["loss"][-1]
                if guard is not None:
                    score, verdict = guard.judge(model, val_iou)
                    history.setdefault("score", []).append(score)
                    history.setdefault("verdict", []).append(verdict)
                if score > best_score and (guard is None or verdict["beats"]):
                    best_score, best_epoch, best_weights = score, epoch, network.get_weights()
                    if checkpoint is not None:
                        save_checkpoint(model, checkpoint, history, epoch)
                elapsed = time.monotonic() - start
                schedule.after_epoch(epoch - best_epoch, epoch, elapsed)
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
    except Exception as error:  # device memory: advice instead of a backend's stack trace
        advice = out_of_memory_advice(error, config.batch, config.patch)
        if advice is None:
            raise
        raise advice from error
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
        if continued and best_epoch == 0:
            model.info.training["kept_start"] = guard.kept(history) if guard else KEPT_START
        elif guard is not None and best_epoch:
            model.info.training["beat_start"] = guard.beaten(best_epoch, history)
    yield TrainingEvent(
        "end",
        model,
        len(history["loss"]),
        config.epochs,
        best_epoch=best_epoch,
        elapsed=time.monotonic() - start,
        reason=reason,
        loss=history["loss"][-1] if history["loss"] else None,
        val_iou=history["val_iou"][best_epoch - 1]
        if best_epoch
        else history.get("start", {}).get("val_iou"),
    )


def _validate(model: SegModel, data: TrainingData, batch: int):
    """Masked cross-entropy and mean IoU of the classes on the held-out patches."""
    if not len(data.val_images):
        return None, None
    num_classes = model.class_map.num_classes
    inputs = data.val_images[..., : model.info.channels]  # without a distance target channel
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    nll, count = 0.0, 0
    for i in range(0, len(data.val_images), batch):
        probabilities = predict_batch(model.keras_model, inputs[i : i + batch])[..., :num_classes]
        target = data.val_targets[i : i + batch]
        labelled = target != IGNORE
        truth, scores = target[labelled], probabilities[labelled]
        nll -= float(np.log(np.clip(scores[np.arange(truth.size), truth], 1e-7, 1)).sum())
        count += truth.size
        confusion += confusion_matrix(truth, scores.argmax(-1), num_classes)
    return nll / max(count, 1), float(np.nanmean(iou_from_confusion(confusion)))
