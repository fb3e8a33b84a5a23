"""Losses written with ``keras.ops`` only, so every Keras backend trains them."""

from __future__ import annotations

import numpy as np

from ..backend import load_keras

ops = load_keras().ops


def median_frequency_weights(targets, num_classes: int) -> np.ndarray:
    """Class weights median(freq) / freq_c over labelled pixels (Eigen & Fergus 2015), so rare
    classes (thin boundaries, small objects) count as much as common ones; clipped to
    [0.1, 10], 1 for a class absent from the targets."""
    counts = np.zeros(num_classes)
    for target in targets:
        counts += np.bincount(target[target >= 0].ravel(), minlength=num_classes)[:num_classes]
    present = counts > 0
    weights = np.ones(num_classes)
    frequency = counts[present] / counts.sum()
    weights[present] = np.clip(np.median(frequency) / frequency, 0.1, 10.0)
    return weights.astype(np.float32)


#: The weight of the flows' squared error beside the classes' loss in a new model. Cellpose
#: trains flows 5 times larger with half their squared error, a weight of 5**2 / 4 on the
#: squared length of a unit flow's error (:data:`FIRST_FLOW_WEIGHT`); there the flows drown
#: the classes early: 300 steps from scratch on DSB gave F1@0.5 0.461 against 0.694 with 1
#: (docs/benchmarks.md, "The flows' weight, and the flow head as instance mode's default").
FLOW_WEIGHT = 1.0
#: The weight of the models that do not record theirs (the bundled nuclei model among them).
FIRST_FLOW_WEIGHT = 6.25


def segmentation_loss(
    class_weights=None,
    dice: bool = False,
    distance: bool = False,
    flow: bool = False,
    flow_weight: float = FLOW_WEIGHT,
):
    """The training loss: categorical cross-entropy averaged over labelled pixels only
    (targets (B, H, W) or (B, Z, H, W) of class indices; negative values, ``IGNORE``, add nothing; 0 when no
    pixel is labelled), class-weighted when ``class_weights`` are given, plus a soft Dice term
    (1 - mean Dice over classes, labelled pixels only) when ``dice``.

    With ``distance`` the targets are (B, H, W, 2), class index and distance to the object's
    border, the network's last output channel is that distance, and its mean absolute error over
    labelled pixels is added. With ``flow`` the targets are (B, H, W, 3), class index and the
    flow (dy, dx), the network's last two channels are the flow, and the squared length of the
    flows' error over labelled pixels (the background's flow is 0), times ``flow_weight``, is
    added.
    """
    weights = None if class_weights is None else np.asarray(class_weights, "float32")

    def loss(y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)  # arrays too, on every backend
        if flow:
            y_true = ops.cast(y_true, y_pred.dtype)
            labelled = ops.cast(y_true[..., 0] >= 0, y_pred.dtype)
            error = ops.sum(ops.square(y_pred[..., -2:] - y_true[..., 1:]), axis=-1)
            error = error * flow_weight
            flows = ops.sum(error * labelled) / ops.maximum(ops.sum(labelled), 1.0)
            return classes_loss(y_true[..., 0], y_pred[..., :-2]) + flows
        if distance:
            y_true = ops.cast(y_true, y_pred.dtype)
            error = ops.abs(y_pred[..., -1] - y_true[..., 1])
            labelled = ops.cast(y_true[..., 0] >= 0, y_pred.dtype)
            mae = ops.sum(error * labelled) / ops.maximum(ops.sum(labelled), 1.0)
            return classes_loss(y_true[..., 0], y_pred[..., :-1]) + mae
        return classes_loss(y_true, y_pred)

    def classes_loss(y_true, y_pred):
        if len(y_true.shape) == len(y_pred.shape):
            y_true = ops.squeeze(y_true, axis=-1)
        y_true = ops.cast(y_true, "int32")
        labelled = ops.cast(y_true >= 0, y_pred.dtype)
        index = ops.maximum(y_true, 0)
        classes = ops.one_hot(index, ops.shape(y_pred)[-1], dtype=y_pred.dtype)
        nll = -ops.log(ops.clip(ops.sum(classes * y_pred, axis=-1), 1e-7, 1.0))
        pixel_weight = labelled
        if weights is not None:
            pixel_weight = labelled * ops.take(ops.cast(weights, y_pred.dtype), index)
        total = ops.sum(nll * pixel_weight) / ops.maximum(ops.sum(pixel_weight), 1e-7)
        if dice:
            mask = ops.expand_dims(labelled, -1)
            axes = tuple(range(len(y_pred.shape) - 1))  # batch and space, 2D or 3D
            overlap = ops.sum(classes * y_pred * mask, axis=axes)
            sizes = ops.sum((classes + y_pred) * mask, axis=axes)
            total = total + 1.0 - ops.mean((2.0 * overlap + 1.0) / (sizes + 1.0))
        return total

    return loss


def star_loss(distance_weight: float = 0.2):
    """The loss of the star-convex representation (``labels.starconvex``): targets (B, H, W,
    1 + rays), the object probability and the ray distances; outputs the same channels, the
    first a logit. Binary cross-entropy of the probability plus ``distance_weight`` times the
    absolute error of the distances, each pixel weighted by its target probability (central
    pixels count most; the background and the rims not at all), as StarDist trains."""

    def loss(y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)  # arrays too, on every backend
        y_true = ops.cast(y_true, y_pred.dtype)
        probability = y_true[..., 0]
        crossentropy = ops.mean(
            ops.binary_crossentropy(probability, y_pred[..., 0], from_logits=True)
        )
        error = ops.mean(ops.abs(y_pred[..., 1:] - y_true[..., 1:]), axis=-1)
        distance = ops.sum(error * probability) / ops.maximum(ops.sum(probability), 1.0)
        return crossentropy + distance_weight * distance

    return loss


def flow_loss(scale: float = 5.0):
    """The loss of the flow representation (``labels.flows``): targets (B, H, W, 3), the unit
    flow (dy, dx) and inside (1) or not (0); outputs the same channels, the flow ``scale``
    times larger and the last a logit. Half the squared error of the scaled flows plus the
    binary cross-entropy of inside, as cellpose trains."""

    def loss(y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        flows = ops.mean(ops.square(y_pred[..., :2] - scale * y_true[..., :2])) / 2
        inside = ops.binary_crossentropy(y_true[..., 2], y_pred[..., 2], from_logits=True)
        return flows + ops.mean(inside)

    return loss
