import numpy as np

from napari_segdl.core.labels import IGNORE
from napari_segdl.core.losses import masked_crossentropy


def _loss(y_true, y_pred) -> float:
    return float(np.asarray(masked_crossentropy(y_true, y_pred)))


def test_unlabelled_pixels_do_not_change_the_loss():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 3, (2, 8, 8)).astype(np.int32)
    y_true[:, :4] = IGNORE
    y_pred = rng.dirichlet(np.ones(3), (2, 8, 8)).astype(np.float32)
    changed = y_pred.copy()
    changed[:, :4] = rng.dirichlet(np.ones(3), (2, 4, 8))
    assert _loss(y_true, y_pred) == _loss(y_true, changed)
    labelled = y_true != IGNORE
    expected = -np.log(np.take_along_axis(y_pred, y_true[..., None].clip(0), -1)[..., 0][labelled])
    np.testing.assert_allclose(_loss(y_true, y_pred), expected.mean(), rtol=1e-5)


def test_trailing_axis_and_nothing_labelled():
    y_pred = np.full((1, 4, 4, 2), 0.5, np.float32)
    assert _loss(np.full((1, 4, 4), IGNORE, np.int32), y_pred) == 0.0
    np.testing.assert_allclose(
        _loss(np.zeros((1, 4, 4, 1), np.int32), y_pred), np.log(2), rtol=1e-5
    )
