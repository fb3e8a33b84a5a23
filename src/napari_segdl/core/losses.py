"""Losses written with ``keras.ops`` only, so every Keras backend trains them."""

from __future__ import annotations

from .backend import load_keras

ops = load_keras().ops


def masked_crossentropy(y_true, y_pred):
    """Categorical cross-entropy averaged over labelled pixels only.

    Parameters
    ----------
    y_true : tensor (B, H, W)
        Class indices; negative values (``IGNORE``) are unlabelled and add nothing.
    y_pred : tensor (B, H, W, K)
        Class probabilities.

    Returns
    -------
    tensor
        Scalar loss; 0 when no pixel is labelled.
    """
    if len(y_true.shape) == len(y_pred.shape):  # Keras may add a trailing axis
        y_true = ops.squeeze(y_true, axis=-1)
    y_true = ops.cast(y_true, "int32")
    labelled = ops.cast(y_true >= 0, y_pred.dtype)
    classes = ops.one_hot(ops.maximum(y_true, 0), ops.shape(y_pred)[-1], dtype=y_pred.dtype)
    probability = ops.sum(classes * y_pred, axis=-1)
    nll = -ops.log(ops.clip(probability, 1e-7, 1.0))
    return ops.sum(nll * labelled) / ops.maximum(ops.sum(labelled), 1.0)
