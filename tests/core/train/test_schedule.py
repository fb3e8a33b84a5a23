"""The learning-rate schedule: halved on a plateau, so a longer budget keeps paying; or half a
cosine over a run of a fixed length."""

import numpy as np
import pytest

from helpers import TINY, make_blobs
from napari_segdl import train
from napari_segdl.core.backend import load_keras
from napari_segdl.core.models import build_model
from napari_segdl.core.train.config import TrainConfig
from napari_segdl.core.train.loop import RateSchedule


def _network(lr):
    keras = load_keras()
    network = build_model("unet", 1, 2, depth=2, filters=8)
    network.compile(optimizer=keras.optimizers.Adam(lr), loss="mse")
    return network


def test_the_rate_halves_after_a_third_of_the_patience_without_a_better_epoch():
    network = _network(1e-3)
    schedule = RateSchedule(network, TrainConfig(lr=1e-3, patience=6))
    assert schedule.wait == 2
    for without_better in (0, 1):  # one epoch without a better score: not yet
        schedule.after_epoch(without_better)
    assert schedule.lr == pytest.approx(1e-3)
    schedule.after_epoch(2)
    assert schedule.lr == pytest.approx(5e-4)
    assert float(network.optimizer.learning_rate.numpy()) == pytest.approx(5e-4)
    schedule.after_epoch(0)  # a better epoch starts the count again
    schedule.after_epoch(1)
    assert schedule.lr == pytest.approx(5e-4)


def test_the_rate_stops_at_a_64th_and_constant_keeps_it():
    network = _network(1e-3)
    schedule = RateSchedule(network, TrainConfig(lr=1e-3, patience=None))
    for epoch in range(1, 100):
        schedule.after_epoch(epoch)
    assert schedule.lr == pytest.approx(1e-3 / 64)
    constant = RateSchedule(network, TrainConfig(lr=1e-3, lr_schedule="constant"))
    for epoch in range(1, 10):
        constant.after_epoch(epoch)
    assert constant.lr == pytest.approx(1e-3)


def test_cosine_falls_along_half_a_cosine_over_the_epochs_or_the_time_limit():
    network = _network(1e-3)
    schedule = RateSchedule(network, TrainConfig(lr=1e-3, epochs=10, lr_schedule="cosine"))
    lowest = 1e-3 / 64
    schedule.after_epoch(0, epoch=5)  # halfway: midway between the start and the floor
    assert schedule.lr == pytest.approx((1e-3 + lowest) / 2)
    assert float(network.optimizer.learning_rate.numpy()) == pytest.approx(schedule.lr)
    schedule.after_epoch(3, epoch=10)  # the end, whatever the validation scores did
    assert schedule.lr == pytest.approx(lowest)
    timed = RateSchedule(
        network, TrainConfig(lr=1e-3, epochs=1000, max_time=60, lr_schedule="cosine")
    )
    timed.after_epoch(0, epoch=1, elapsed=15.0)  # a quarter of the time limit, not of epochs
    assert timed.lr == pytest.approx(lowest + (1e-3 - lowest) * 0.5 * (1 + np.cos(np.pi / 4)))
    timed.after_epoch(0, epoch=2, elapsed=90.0)  # past the limit: the floor, never below
    assert timed.lr == pytest.approx(lowest)


@pytest.mark.slow
def test_training_records_the_rate_of_every_epoch():
    image, labels = make_blobs()
    model = train(image, labels, epochs=4, patience=6, **TINY)
    rates = model.info.history["lr"]
    assert len(rates) == model.info.training["epochs_run"] and rates[0] == pytest.approx(1e-3)
    assert np.all(np.diff(rates) <= 0)
    cosine = train(image, labels, epochs=4, lr_schedule="cosine", **TINY)
    rates = cosine.info.history["lr"]  # the rate each epoch trained at: from the start, falling
    assert rates[0] == pytest.approx(1e-3) and np.all(np.diff(rates) < 0)
