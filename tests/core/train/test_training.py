import threading

import numpy as np
import pytest

from helpers import TINY, make_blobs
from napari_segdl import evaluate, predict, train
from napari_segdl.core.errors import SegDLError


@pytest.mark.slow
@pytest.mark.both_backends
def test_dense_training_learns_and_reports_events(blobs):
    image, labels = blobs
    original = image.copy(), labels.copy()
    events = []
    model = train(image, labels, epochs=4, callback=events.append, **TINY)
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert kinds.count("epoch") == 4 and kinds.count("step") == 4 * TINY["steps_per_epoch"]
    epochs = [e for e in events if e.kind == "epoch"]
    assert all(e.loss > 0 and e.val_loss is not None and 0 <= e.val_iou <= 1 for e in epochs)
    assert model.info.history["loss"] == [e.loss for e in epochs]
    assert model.info.training["ended"] == "completed"
    score = evaluate(predict(model, image), labels)
    assert score["iou"]["mean"] > 0.6
    np.testing.assert_array_equal(image, original[0])  # the user's arrays are untouched
    np.testing.assert_array_equal(labels, original[1])


@pytest.mark.slow
def test_sparse_training_predicts_painted_values():
    image, dense = make_blobs()
    scribbles = np.zeros_like(dense)
    scribbles[dense == 255] = 7
    grid = np.zeros(dense.shape, bool)
    grid[::6, :] = True  # background painted along every sixth row only
    scribbles[grid & (dense == 0)] = 3
    model = train(image, scribbles, mode="sparse", epochs=4, **TINY)
    prediction = predict(model, image)
    assert set(np.unique(prediction)) <= {3, 7}
    assert model.class_map.values == (3, 7)
    truth = np.where(dense == 255, 7, 3)
    assert evaluate(prediction, truth)["iou"]["mean"] > 0.5


@pytest.mark.slow
def test_stop_request_ends_training_with_best_weights(blobs):
    stop = threading.Event()
    steps = []

    def on_event(event):
        if event.kind == "step":
            steps.append(event.step)
            if event.epoch == 2:
                stop.set()

    model = train(*blobs, epochs=50, callback=on_event, stop=stop.is_set, **TINY)
    assert model.info.training["ended"] == "stopped"
    assert model.info.training["epochs_run"] == 2
    assert len(steps) == TINY["steps_per_epoch"] + 1


@pytest.mark.slow
def test_time_budget_ends_training(blobs):
    model = train(*blobs, epochs=1000, max_time=2.0, **TINY)
    assert model.info.training["ended"] == "time budget"
    assert model.info.training["epochs_run"] < 1000


@pytest.mark.slow
def test_early_stopping_restores_best_epoch(blobs):
    model = train(*blobs, epochs=30, patience=1, lr=0.5, **TINY)
    history = model.info.history["val_iou"]
    best = model.info.training["best_epoch"]
    assert model.info.training["ended"] in ("early stopping", "completed")
    assert history[best - 1] == max(history)


@pytest.mark.slow
def test_same_seed_same_model(blobs):
    first = train(*blobs, epochs=1, seed=7, **TINY)
    second = train(*blobs, epochs=1, seed=7, **TINY)
    for a, b in zip(
        first.keras_model.get_weights(), second.keras_model.get_weights(), strict=True
    ):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.slow
def test_several_pairs_and_rgb():
    pairs = [make_blobs(seed=s) for s in (1, 2)]
    images = [np.repeat(im[..., None], 3, -1).astype(np.uint16) for im, _ in pairs]
    model = train(images, [lab for _, lab in pairs], epochs=1, **TINY)
    assert model.info.channels == 3 and model.info.training["pairs"] == 2
    assert predict(model, images[0]).shape == images[0].shape[:2]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("empty", "at least one"),
        ("shapes", r"image 0 has shape \(96, 128\) but labels 0 has shape \(96, 100\)"),
        ("nothing_painted", "labels 0: nothing is painted"),
        ("one_class_sparse", "only value 2 is painted"),
        ("dense_one_value", "all one value"),
        ("nan", "image 0: contains NaN or infinite"),
        ("inf", "image 0: contains NaN or infinite"),
        ("patch", r"patch 34 is not a multiple of 2\*\*depth = 4 \(depth 2\); use 32 or 36"),
        ("epochs", "epochs must be between 1 and 100000; received 0"),
        ("channels", "different channel counts"),
        ("unknown_param", r"Unknown training parameter\(s\) epoch; the parameters are"),
        ("stack", "labels 0 covers one slice"),
    ],
)
def test_bad_input_is_refused_clearly(blobs, case, message):
    image, labels = blobs
    kwargs = dict(TINY)
    args = ([image], [labels])
    if case == "empty":
        args = ([], [])
    elif case == "shapes":
        args = ([image], [labels[:, :100]])
    elif case == "nothing_painted":
        args, kwargs["mode"] = ([image], [np.zeros_like(labels)]), "sparse"
    elif case == "one_class_sparse":
        args, kwargs["mode"] = ([image], [np.where(labels > 0, 2, 0)]), "sparse"
    elif case == "dense_one_value":
        args = ([image], [np.full_like(labels, 4)])
    elif case in ("nan", "inf"):
        bad = image.copy()
        bad[3, 3] = np.nan if case == "nan" else np.inf
        args = ([bad], [labels])
    elif case == "patch":
        kwargs["patch"] = 34
    elif case == "epochs":
        kwargs["epochs"] = 0
    elif case == "channels":
        args = ([image, np.dstack([image] * 3)], [labels, labels])
    elif case == "unknown_param":
        kwargs["epoch"] = 3
    elif case == "stack":
        args = ([np.stack([image] * 12)], [labels])
    with pytest.raises(SegDLError, match=message):
        train(*args, **kwargs)


@pytest.mark.slow
def test_balanced_class_weights_and_dice_loss_train(blobs):
    image, labels = blobs
    model = train(image, labels, epochs=2, class_weights="auto", loss="crossentropy+dice", **TINY)
    background, disc = model.info.training["class_weights"]
    assert disc > background  # the rare class weighs more
    assert model.info.training["device"].startswith(("CPU only", "GPU: "))
    assert np.isfinite(model.info.history["loss"]).all()


def test_presets_are_valid_configs_and_flags_win():
    from napari_segdl.cli import build_parser, training_params
    from napari_segdl.core.train.config import TrainConfig
    from napari_segdl.core.train.presets import PRESETS

    for values in PRESETS.values():
        TrainConfig(**values)
    command = ["train", "a", "b", "--out", "m.keras", "--preset", "fast-cpu", "--filters", "8"]
    args = build_parser().parse_args(command)
    config = TrainConfig.create(args.preset, **training_params(args))
    assert (config.filters, config.depth, config.max_time) == (8, 4, 600)
    plain = build_parser().parse_args(command[:5])
    assert TrainConfig.create(plain.preset, **training_params(plain)) == TrainConfig()


@pytest.mark.slow
@pytest.mark.both_backends
def test_checkpoints_hold_the_best_model_and_resume(tmp_path, blobs):
    from napari_segdl import load_model

    image, labels = blobs
    stop_after = iter([False] * 12 + [True] * 100)  # Stop pressed during epoch 3
    model = train(
        image,
        labels,
        epochs=10,
        checkpoint_dir=tmp_path / "ckpt",
        stop=lambda: next(stop_after),
        **TINY,
    )
    (checkpoint,) = (tmp_path / "ckpt").glob("checkpoint-*.keras")
    assert model.info.training["checkpoint"] == str(checkpoint)
    saved = load_model(checkpoint)
    assert saved.info.training["best_epoch"] == model.info.training["best_epoch"]
    resumed = train(image, labels, initial=saved, epochs=1, **TINY)
    assert (
        resumed.info.training["continued_from"]["epochs_run"] == saved.info.training["epochs_run"]
    )


def test_a_checkpoint_folder_that_cannot_be_written_is_refused_first(tmp_path, blobs):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(SegDLError, match=r"Cannot write checkpoints to '.*file/ckpt'"):
        train(*blobs, epochs=1, checkpoint_dir=tmp_path / "file" / "ckpt", **TINY)
