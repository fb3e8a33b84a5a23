"""The learning-rate schedule: halved on a plateau, so a longer budget keeps paying."""

import numpy as np
import pytest

from helpers import TINY, make_blobs
from napari_segdl import train
from napari_segdl.core.backend import load_keras
from napari_segdl.core.models import build_model
from napari_segdl.core.train.config import TrainConfig
from napari_segdl.core.train.loop import PlateauSchedule


def _network(lr):
    keras = load_keras()
    network = build_model("unet", 1, 2, depth=2, filters=8)
    network.compile(optimizer=keras.optimizers.Adam(lr), loss="mse")
    return network


def test_the_rate_halves_after_a_third_of_the_patience_without_a_better_epoch():
    network = _network(1e-3)
    schedule = PlateauSchedule(network, TrainConfig(lr=1e-3, patience=6))
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
    schedule = PlateauSchedule(network, TrainConfig(lr=1e-3, patience=None))
    for epoch in range(1, 100):
        schedule.after_epoch(epoch)
    assert schedule.lr == pytest.approx(1e-3 / 64)
    constant = PlateauSchedule(network, TrainConfig(lr=1e-3, lr_schedule="constant"))
    for epoch in range(1, 10):
        constant.after_epoch(epoch)
    assert constant.lr == pytest.approx(1e-3)


@pytest.mark.slow
def test_training_records_the_rate_of_every_epoch():
    image, labels = make_blobs()
    model = train(image, labels, epochs=4, patience=6, **TINY)
    rates = model.info.history["lr"]
    assert len(rates) == model.info.training["epochs_run"] and rates[0] == pytest.approx(1e-3)
    assert np.all(np.diff(rates) <= 0)
