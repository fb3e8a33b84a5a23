"""The docks show the schema's defaults and say what 0 means, as a new user sees them."""

import pytest

from napari_segdl._sample_data import nuclei
from napari_segdl.cli import build_parser, training_params
from napari_segdl.core.schema import spec
from napari_segdl.core.train.config import TrainConfig, parameters
from napari_segdl.core.train.presets import PRESETS

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("fresh_session")]


def _dock(viewer, name):
    return viewer.window.add_plugin_dock_widget("napari-segdl", name)[1]


def test_dock_cli_and_api_share_every_default(make_napari_viewer, tmp_path):
    train = _dock(make_napari_viewer(), "Train")
    train.checkpoints.line_edit.value = ""  # the API writes no checkpoints unless asked
    api = TrainConfig()
    assert train.config() == api
    shown = [item.name for item in parameters() if spec(item).dock]
    assert {"arch", "mode", "epochs", "patch", "max_time", "filters", "lr"} <= set(shown)
    args = build_parser().parse_args(["train", "a", "b", "--out", "m.keras"])
    assert TrainConfig.create(args.preset, **training_params(args)) == api


def test_presets_fill_the_dock_as_the_api_does(make_napari_viewer):
    train = _dock(make_napari_viewer(), "Train")
    train.checkpoints.line_edit.value = ""
    for name in PRESETS:
        train.preset.value = name
        assert train.config() == TrainConfig.create(name), name


def test_zero_says_what_it_means(make_napari_viewer):
    viewer = make_napari_viewer()
    train, predict = _dock(viewer, "Train"), _dock(viewer, "Predict")
    assert train.max_time.value == 0 and train.max_time.native.specialValueText() == "no limit"
    assert train.config().max_time is None
    train.max_time.value = 120
    assert train.config().max_time == 120
    assert predict.tile.value == 0 and predict.tile.native.specialValueText() == "automatic"
    assert predict.threshold.value == 0
    assert predict.threshold.native.specialValueText().startswith("none")


def test_the_predict_dock_opens_with_the_selected_image(make_napari_viewer):
    viewer = make_napari_viewer()
    for data, kwargs, kind in nuclei():
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    viewer.layers.selection = {viewer.layers["nuclei"]}
    predict = _dock(viewer, "Predict")
    assert [layer.name for layer in predict.images.value] == ["nuclei"]


def test_the_sample_is_shown_with_stretched_contrast(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-segdl", "nuclei")
    low, high = viewer.layers["nuclei"].contrast_limits
    assert high < 128 and low < high


def test_the_predict_dock_folds_the_rare_options_and_starts_at_the_api_defaults(
    make_napari_viewer,
):
    from napari_segdl.core.infer.options import PredictOptions

    viewer = make_napari_viewer()
    panel = _dock(viewer, "Predict").option_panel
    folded = {widget.name for widget in panel.advanced}
    assert {
        "engine",
        "diameter",
        "seed_level",
        "extent_level",
        "flow_error",
        "link_slices",
    } <= folded
    assert "channel_axis" in folded and "tile" not in folded
    assert panel.advanced.native.isHidden()
    panel.show_advanced.value = True
    assert not panel.advanced.native.isHidden()
    assert panel.options() == PredictOptions()
    panel.widgets["seed_level"].value = 0.4
    assert panel.options().seed_level == 0.4
