import numpy as np
import pytest

from napari_segdl.core.errors import SegDLError
from napari_segdl.core.labels.modes import IGNORE, ClassMap, as_label_array


@pytest.mark.parametrize(
    ("labels", "mode", "values", "dtype"),
    [
        (np.array([[0, 255], [255, 0]], np.uint8), "dense", (0, 255), "uint8"),
        (np.array([[0, 3], [7, 3]], np.uint16), "dense", (0, 3, 7), "uint16"),
        (np.array([[0, 1], [2, 0]], np.int32), "sparse", (1, 2), "uint8"),
        (np.array([[0, 1000], [2, 0]], np.int64), "sparse", (2, 1000), "uint16"),
    ],
)
def test_label_values_round_trip(labels, mode, values, dtype):
    class_map = ClassMap.from_labels([labels], mode)
    assert class_map.values == values
    index = class_map.encode(labels)
    decoded = class_map.decode(np.maximum(index, 0))
    painted = labels != 0 if mode == "sparse" else np.ones(labels.shape, bool)
    np.testing.assert_array_equal(decoded[painted], labels[painted])
    assert decoded.dtype == np.dtype(dtype)
    if mode == "sparse":
        assert np.all(index[labels == 0] == IGNORE)
    assert ClassMap.from_dict(class_map.to_dict()) == class_map


def test_default_names():
    dense = ClassMap.from_labels([np.array([[0, 255]])], "dense")
    assert dense.names == ("background", "class 255")
    named = ClassMap.from_labels([np.array([[1, 2]])], "sparse", ["background", "nucleus"])
    assert named.names == ("background", "nucleus")


@pytest.mark.parametrize(
    ("labels", "mode", "message"),
    [
        (np.full((4, 4), 3), "dense", "all one value"),
        (np.zeros((4, 4), int), "dense", "all one value"),
        (np.array([[0, 1], [1, 0]]), "sparse", "only value 1 is painted"),
        (np.zeros((4, 4), int), "sparse", "nothing is painted"),
    ],
)
def test_too_few_classes(labels, mode, message):
    with pytest.raises(SegDLError, match=message):
        ClassMap.from_labels([labels], mode)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.array([[0, -1]]), ">= 0"),
        (np.array([[0.5, 1.0]]), "whole numbers"),
        (np.zeros((2, 2, 2), int), "must be 2D"),
        (np.array([["a"]]), "not a label type"),
    ],
)
def test_invalid_label_arrays(labels, message):
    with pytest.raises(SegDLError, match=message):
        as_label_array(labels, "labels layer 'x'")


def test_unknown_mode_and_values():
    with pytest.raises(SegDLError, match="Unknown label mode"):
        ClassMap.from_labels([np.array([[0, 1]])], "instances")
    class_map = ClassMap.from_labels([np.array([[0, 1]])], "dense")
    with pytest.raises(SegDLError, match=r"values \[5\] are not classes"):
        class_map.encode(np.array([[0, 5]]), "labels 'new'")
