"""The training schema: one definition of every parameter, validated, with presets."""

import pytest

from napari_segdl.core.errors import SegDLError
from napari_segdl.core.models import check_patch
from napari_segdl.core.schema import default, spec
from napari_segdl.core.train.config import TrainConfig, parameters
from napari_segdl.core.train.presets import PRESETS


def test_every_parameter_has_a_label_help_and_a_valid_default():
    config = TrainConfig()
    for item in parameters():
        about = spec(item)
        assert about.label and about.help.endswith((".", ")")), item.name
        assert about.group in ("network", "training", "device")
        assert getattr(config, item.name) == default(item)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"arch": "resnet"}, "arch must be one of unet, segnet; received 'resnet'"),
        ({"filters": 0}, "filters must be between 1 and 512; received 0"),
        ({"filters": 8.5}, "filters must be an integer; received 8.5"),
        ({"depth": True}, "depth must be an integer; received True"),
        ({"lr": 0}, "lr must be between"),
        ({"max_time": -1}, "max_time must be between"),
        ({"augment": "yes"}, "augment must be True or False; received 'yes'"),
        ({"loss": "dice"}, r"loss must be one of crossentropy, crossentropy\+dice"),
        ({"patch": 100}, r"patch 100 is not a multiple of 2\*\*depth = 16 \(depth 4\)"),
    ],
)
def test_bad_values_name_the_parameter_and_what_it_takes(params, message):
    with pytest.raises(SegDLError, match=message):
        TrainConfig(**params)


def test_optional_parameters_take_none():
    config = TrainConfig(max_time=None, patience=None, steps_per_epoch=None)
    assert config.max_time is None and config.patience is None


def test_presets_and_parameters_beside_them():
    config = TrainConfig.create("fast-cpu", filters=8)
    assert config.filters == 8 and config.max_time == PRESETS["fast-cpu"]["max_time"]
    assert TrainConfig.create() == TrainConfig()
    with pytest.raises(
        SegDLError, match="Unknown preset 'fast'; choose one of fine-tune, fast-cpu"
    ):
        TrainConfig.create("fast")
    with pytest.raises(SegDLError, match=r"Unknown training parameter\(s\) epoch"):
        TrainConfig.create(epoch=3)


def test_the_patch_is_checked_against_the_network_continued():
    check_patch(64, "unet", {"depth": 5})
    with pytest.raises(
        SegDLError, match=r"patch 48 is not a multiple of 2\*\*depth = 32 \(depth 5\)"
    ):
        check_patch(48, "unet", {"depth": 5})
