import numpy as np
import pytest

from napari_segdl import evaluate
from napari_segdl.core.errors import SegDLError


def test_hand_computed_two_class_case():
    truth = np.array([[0, 0, 1, 1]])
    prediction = np.array([[0, 1, 1, 1]])
    result = evaluate(prediction, truth)
    # class 0: TP 1, FN 1, FP 0 -> IoU 1/2; class 1: TP 2, FP 1 -> IoU 2/3
    assert result["iou"]["per_class"] == pytest.approx({"0": 0.5, "1": 2 / 3})
    assert result["dice"]["per_class"] == pytest.approx({"0": 2 / 3, "1": 0.8})
    assert result["pixel_accuracy"]["overall"] == pytest.approx(0.75)
    assert result["iou"]["mean"] == pytest.approx((0.5 + 2 / 3) / 2)


def test_pooled_over_images_and_ignore():
    truth = [np.array([[1, 2, 0]]), np.array([[2, 2, 0]])]
    prediction = [np.array([[1, 1, 2]]), np.array([[2, 2, 1]])]
    result = evaluate(prediction, truth, ignore=0)
    assert result["classes"] == [1, 2]
    assert result["iou"]["per_class"] == pytest.approx({"1": 0.5, "2": 2 / 3})
    assert len(result["per_image"]) == 2


def test_shape_mismatch():
    with pytest.raises(SegDLError, match="differs from truth shape"):
        evaluate(np.zeros((2, 2)), np.zeros((2, 3)))
