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


def test_precision_and_recall_by_hand():
    result = evaluate(np.array([[0, 1, 1, 1]]), np.array([[0, 0, 1, 1]]))
    assert result["precision"]["per_class"] == pytest.approx({"0": 1.0, "1": 2 / 3})
    assert result["recall"]["per_class"] == pytest.approx({"0": 0.5, "1": 1.0})


def _instances():
    """Truth: objects 1, 2 (2 x 2) and 3 (1 x 2); prediction: 10 = object 1 exactly, 20 half
    over object 2 (IoU 2/6), 30 on background."""
    truth = np.zeros((6, 6), np.uint16)
    truth[0:2, 0:2], truth[0:2, 4:6], truth[4, 0:2] = 1, 2, 3
    prediction = np.zeros((6, 6), np.uint16)
    prediction[0:2, 0:2], prediction[0:2, 3:5], prediction[4:6, 4:6] = 10, 20, 30
    return prediction, truth


def test_instance_matching_by_hand():
    from napari_segdl.core.evaluate.instances import iou_matrix, match

    prediction, truth = _instances()
    iou, truth_ids, pred_ids = iou_matrix(prediction, truth)
    assert truth_ids.tolist() == [1, 2, 3] and pred_ids.tolist() == [10, 20, 30]
    np.testing.assert_allclose(iou, [[1, 0, 0], [0, 1 / 3, 0], [0, 0, 0]])
    matched_truth, matched_pred, ious, *_ = match(prediction, truth)
    assert dict(zip(matched_truth.tolist(), matched_pred.tolist(), strict=True)) == {1: 10, 2: 20}
    np.testing.assert_allclose(ious, [1, 1 / 3])

    result = evaluate(prediction, truth, instance=True)
    at50 = result["per_threshold"]["0.50"]
    assert (at50["tp"], at50["fp"], at50["fn"]) == (1, 2, 2)
    assert result["ap50"] == pytest.approx(1 / 5)  # TP / (TP + FP + FN)
    assert result["f1_50"] == pytest.approx(1 / 3)  # 2TP / (2TP + FP + FN)
    assert result["ap50_95"] == pytest.approx(1 / 5)  # object 1 matches at every threshold
    assert result["mean_matched_iou"] == pytest.approx(1.0)
    assert result["classes"] == [0, 1]  # semantic figures: foreground against background


def test_instance_counts_are_pooled_over_images():
    prediction, truth = _instances()
    both = evaluate([prediction, truth], [truth, truth], instance=True)
    at50 = both["per_threshold"]["0.50"]
    assert (at50["tp"], at50["fp"], at50["fn"]) == (1 + 3, 2, 2)
    assert both["ap50"] == pytest.approx(4 / 8)
    assert [row["ap50"] for row in both["per_image"]] == pytest.approx([0.2, 1.0])


def test_instance_errors_show_unmatched_objects():
    from napari_segdl.core.evaluate.instances import instance_errors

    prediction, truth = _instances()
    false_positives, false_negatives = instance_errors(prediction, truth)
    assert set(np.unique(false_positives)) == {0, 20, 30}
    assert set(np.unique(false_negatives)) == {0, 2, 3}


# ---- bad input -----------------------------------------------------------------------------


def test_empty_truth_is_refused():
    with pytest.raises(SegDLError, match="truth is empty"):
        evaluate(np.ones((4, 4), int), np.zeros((4, 4), int))


def test_semantic_truth_for_instance_metrics_is_refused():
    truth = np.zeros((9, 9), np.uint8)
    truth[0, 0] = truth[4, 4] = truth[8, 8] = 1  # one value, three separate objects
    with pytest.raises(SegDLError, match=r"looks semantic.*label 1 covers 3 separate regions"):
        evaluate(truth, truth, instance=True)


def test_label_values_absent_from_one_side_are_scored_and_named():
    result = evaluate(np.array([[0, 3, 3, 1]]), np.array([[0, 2, 2, 1]]))
    assert result["iou"]["per_class"]["3"] == 0.0 and result["iou"]["per_class"]["2"] == 0.0
    assert result["warnings"] == [
        "label 2 is in the truth but never predicted",
        "label 3 is predicted but absent from the truth",
    ]


def test_instances_with_a_fragmented_object_are_still_instances():
    """A nucleus cut in three by a fold stays one object among many: not a semantic mask."""
    truth = np.zeros((20, 40), np.uint16)
    for i in range(8):
        truth[2:5, 1 + 5 * i : 4 + 5 * i] = i + 1
    truth[10, 1], truth[10, 5], truth[10, 9] = 9, 9, 9  # one object in three pieces
    assert evaluate(truth, truth, instance=True)["ap50"] == 1.0
