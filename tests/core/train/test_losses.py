import numpy as np

from napari_segdl.core.labels.modes import IGNORE
from napari_segdl.core.train.losses import segmentation_loss


def _loss(y_true, y_pred) -> float:
    return float(np.asarray(segmentation_loss()(y_true, y_pred)))


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


def test_median_frequency_weights_by_hand():
    from napari_segdl.core.train.losses import median_frequency_weights

    targets = [np.array([[0, 0, 0, 0, 0, 0, 1, 1], [IGNORE] * 8]), np.array([[0, 0, 2, 2]])]
    # labelled counts 8, 2, 2 of 12: freq 2/3, 1/6, 1/6; median 1/6
    np.testing.assert_allclose(median_frequency_weights(targets, 4), [0.25, 1, 1, 1])


def test_weighted_loss_and_dice_by_hand():
    from napari_segdl.core.train.losses import segmentation_loss

    y_true = np.array([[[0, 1, IGNORE]]], np.int32)
    y_pred = np.array([[[[0.8, 0.2], [0.4, 0.6], [0.5, 0.5]]]], np.float32)
    nll = np.array([-np.log(0.8), -np.log(0.6)])
    plain = float(np.asarray(segmentation_loss()(y_true, y_pred)))
    np.testing.assert_allclose(plain, nll.mean(), rtol=1e-5)
    weighted = float(np.asarray(segmentation_loss([1.0, 3.0])(y_true, y_pred)))
    np.testing.assert_allclose(weighted, (nll[0] + 3 * nll[1]) / 4, rtol=1e-5)
    # Dice over labelled pixels: class 0 overlap 0.8, sizes 1 + 1.2; class 1 overlap 0.6, 1 + 0.8
    dice = np.mean([(2 * 0.8 + 1) / (2.2 + 1), (2 * 0.6 + 1) / (1.8 + 1)])
    with_dice = float(np.asarray(segmentation_loss(dice=True)(y_true, y_pred)))
    np.testing.assert_allclose(with_dice, nll.mean() + 1 - dice, rtol=1e-5)


def test_the_flow_term_is_the_squared_error_of_the_flows_times_its_weight():
    rng = np.random.default_rng(1)
    classes = rng.integers(0, 3, (1, 6, 6)).astype(np.float32)
    classes[:, :2] = IGNORE  # unlabelled pixels add no flow error either
    flows = rng.normal(size=(1, 6, 6, 2)).astype(np.float32)
    y_true = np.concatenate([classes[..., None], flows], -1)
    y_pred = np.concatenate([rng.dirichlet(np.ones(3), (1, 6, 6)), np.zeros((1, 6, 6, 2))], -1)
    y_pred = y_pred.astype(np.float32)
    terms = {}
    for weight in (0.0, 1.0, 6.25):
        loss = segmentation_loss(flow=True, flow_weight=weight)
        terms[weight] = float(np.asarray(loss(y_true, y_pred)))
    error = (flows**2).sum(-1)[classes >= 0].mean()
    np.testing.assert_allclose(terms[1.0] - terms[0.0], error, rtol=1e-5)
    np.testing.assert_allclose(terms[6.25] - terms[0.0], 6.25 * error, rtol=1e-5)
