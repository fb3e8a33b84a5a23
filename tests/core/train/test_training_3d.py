"""3D networks learn from volumes: dense, sparse slices and instances; continued as 3D."""

import numpy as np
import pytest

from helpers import make_balls
from napari_segdl import evaluate, predict, train
from napari_segdl.core.errors import SegDLError

pytestmark = pytest.mark.slow

TINY_3D = {
    "dims": 3,
    "filters": 8,
    "depth": 2,
    "patch": 32,
    "patch_z": 8,
    "batch": 2,
    "steps_per_epoch": 8,
    "jit_compile": False,
}


def test_a_3d_unet_learns_the_objects_of_a_volume():
    image, labels = make_balls(shape=(16, 48, 48), count=6)
    model = train(image, labels > 0, epochs=6, lr=3e-3, spacing=(2.5, 1, 1), **TINY_3D)
    assert model.info.arch_params["z_skip"] == 1 and model.info.training["dims"] == 3
    other, truth = make_balls(shape=(16, 48, 48), count=6, seed=1)
    scores = evaluate(predict(model, other), truth > 0)
    assert scores["iou"]["per_class"]["1"] > 0.7, scores  # about 0.94 when measured


def test_a_few_painted_slices_train_a_3d_network_in_sparse_mode():
    image, labels = make_balls(shape=(16, 48, 48), count=6)
    sparse = np.zeros(labels.shape, np.uint8)
    for z in (4, 8, 11):  # three painted slices: objects 2, background 1, the rest unlabelled
        sparse[z] = np.where(labels[z] > 0, 2, 1)
    model = train(image, sparse, mode="sparse", epochs=4, **TINY_3D)
    prediction = predict(model, image)
    assert set(np.unique(prediction)) <= {1, 2} and prediction.shape == image.shape


@pytest.mark.parametrize("arch", ["unet", "segnet"])
@pytest.mark.both_backends
def test_3d_instances_and_continuing_keeps_the_3d_network(arch):
    image, labels = make_balls(shape=(16, 48, 48), count=6)
    model = train(image, labels, mode="instance", arch=arch, epochs=2, **TINY_3D)
    objects = predict(model, image)
    assert objects.shape == image.shape and objects.dtype.kind == "u"
    again = train(image, labels, initial=model, epochs=1, **{**TINY_3D, "dims": 2})
    assert again.info.arch_params["dims"] == 3  # a 3D model continues as 3D
    with pytest.raises(SegDLError, match="2D image"):
        train(image[0], labels[0], initial=model, epochs=1, **TINY_3D)
