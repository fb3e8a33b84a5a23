"""Continuing a model: fine-tuning settings unless set, and never a model worse than the start
(the start is epoch 0 of the best-epoch choice, also when Stop ends the run at once)."""

import numpy as np
import pytest

from helpers import TINY, make_blobs
from napari_segdl import predict, train
from napari_segdl.cli import main
from napari_segdl.core.train.guard import KEPT_START

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def start():
    image, labels = make_blobs(seed=1)
    return train(image, labels, epochs=4, **TINY)


def _probabilities(model, image):
    return predict(model, image, probabilities=True)


def test_a_run_that_only_gets_worse_returns_the_start_unchanged(start):
    image, labels = make_blobs(shape=(128, 128), count=24, seed=2)  # objects in every block
    ruined = train(
        image, labels, initial=start, epochs=2, lr=1.0, max_time=None, val_fraction=0.3, **TINY
    )
    assert ruined.info.training["best_epoch"] == 0
    assert ruined.info.training["kept_start"].startswith(f"{KEPT_START} (the closest, epoch ")
    np.testing.assert_array_equal(_probabilities(ruined, image), _probabilities(start, image))
    assert ruined.info.history["start"]["val_iou"] is not None


def test_stop_before_the_first_epoch_ends_gives_the_start_back(start):
    image, labels = make_blobs(seed=3)
    stopped = train(image, labels, initial=start, stop=lambda: True, **TINY)
    assert stopped.info.training["epochs_run"] == 0
    assert stopped.info.training["kept_start"] == KEPT_START  # no epoch to say more of
    np.testing.assert_array_equal(_probabilities(stopped, image), _probabilities(start, image))


def test_continuing_without_validation_patches_still_keeps_the_start(start):
    image, labels = make_blobs(shape=(32, 32), count=2, seed=4)
    kept = train(image, labels, initial=start, epochs=2, lr=1.0, val_fraction=0.0, **TINY)
    assert kept.info.training["best_epoch"] == 0
    np.testing.assert_array_equal(_probabilities(kept, image), _probabilities(start, image))


def test_continuing_means_fine_tuning_unless_set(start):
    image, labels = make_blobs(seed=5)
    tuned = train(image, labels, initial=start, epochs=1, **TINY)
    assert tuned.info.training["lr"] == 2e-4 and tuned.info.training["max_time"] == 60
    faster = train(image, labels, initial=start, epochs=1, lr=1e-3, max_time=None, **TINY)
    assert faster.info.training["lr"] == 1e-3 and faster.info.training["max_time"] is None


def test_the_cli_says_in_its_last_line_that_the_start_was_kept(start, tmp_path, capsys):
    import tifffile

    image, labels = make_blobs(seed=6)
    tifffile.imwrite(tmp_path / "a.tif", image)
    tifffile.imwrite(tmp_path / "a_labels.tif", labels)
    start.save(tmp_path / "start.keras")
    args = ["train", str(tmp_path / "a.tif"), str(tmp_path / "a_labels.tif"), "--out"]
    args += [str(tmp_path / "next.keras"), "--from-model", str(tmp_path / "start.keras")]
    args += ["--lr", "1.0", "--epochs", "2", "--patch", "32", "--batch", "4"]
    assert main([*args, "--steps-per-epoch", "6"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("saved ") and KEPT_START in last


def test_a_continued_run_is_judged_on_corrected_blocks_it_did_not_train_on(start):
    image, labels = make_blobs(shape=(64, 64), count=12, seed=7)  # 4 blocks of half the patch
    tuned = train(image, labels, initial=start, epochs=1, val_fraction=0.0, **TINY)
    assert tuned.info.training["validation_patches"] == 0  # asked for none: training blocks
    tuned = train(image, labels, initial=start, epochs=1, **TINY)
    assert tuned.info.training["validation_patches"] == 4  # a quarter of 16 blocks of 16²


def test_keeping_the_encoder_trains_the_decoder_only(start):
    image, labels = make_blobs(seed=8)
    trained = {}

    def after_epoch(event):  # the weights as trained, whichever epoch the run returns
        if event.kind == "epoch":
            network = event.model.keras_model
            trained.update({layer.name: layer.get_weights() for layer in network.layers})

    train(image, labels, initial=start, epochs=1, lr=1e-2, freeze_encoder=True,
          callback=after_epoch, **TINY)  # fmt: skip
    for layer in start.keras_model.layers:
        if not layer.weights:
            continue
        same = all(
            np.array_equal(a, b)
            for a, b in zip(layer.get_weights(), trained[layer.name], strict=True)
        )
        encoder = layer.name.startswith(("down", "bottleneck")) or "_bn" in layer.name
        assert same == encoder, layer.name


def test_an_epoch_replaces_the_start_only_when_it_beats_it_by_the_margin(start):
    from napari_segdl.core.train.guard import GUARD_MARGIN

    image, labels = make_blobs(shape=(128, 128), count=24, seed=9)
    tuned = train(image, labels, initial=start, epochs=3, lr=3e-3, max_time=None, **TINY)
    history, best = tuned.info.history, tuned.info.training["best_epoch"]
    assert history["start"]["test"] == "margin"  # a dense model: the class IoU by the margin
    bar = history["start"]["score"][0] + GUARD_MARGIN
    assert len(history["score"]) == len(history["verdict"]) == 3
    for score, verdict in zip(history["score"], history["verdict"], strict=True):
        assert verdict["beats"] == (score[0] >= bar - 1e-9)
    if best == 0:
        assert not any(verdict["beats"] for verdict in history["verdict"])
    else:
        assert history["verdict"][best - 1]["beats"]


def test_a_run_that_learns_says_by_how_much_it_beat_its_start():
    from skimage.measure import label

    from napari_segdl.core.train.runs import summarize_run

    image, dense = make_blobs(shape=(128, 128), count=20, seed=11)
    objects = label(dense > 0).astype(np.uint16)
    weak = train(image, objects, mode="instance", epochs=1, **{**TINY, "steps_per_epoch": 2})
    learned = train(image, objects, initial=weak, epochs=4, lr=3e-3, max_time=None,
                    val_fraction=0.3, **TINY)  # fmt: skip
    run = learned.info.run
    assert run.best_epoch > 0 and run.kept_start is None
    verdict = learned.info.history["verdict"][run.best_epoch - 1]
    assert verdict["beats"] and verdict["lower"] > 0 and verdict["objects"] > 0
    assert run.beat_start.startswith(f"epoch {run.best_epoch} beat the starting model on ")
    assert "held-out objects: F1@0.5 " in run.beat_start
    assert summarize_run(learned, ["blobs"])["beat_start"] == run.beat_start  # the run log
