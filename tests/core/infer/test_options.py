"""The prediction schema: every option declared once, checked once, the same defaults on every
surface, and the engine recorded is the engine that ran."""

import inspect
import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile

import napari_segdl
from helpers import untrained_model
from napari_segdl.cli import parser as parser_module
from napari_segdl.cli.parser import build_parser, prediction_options
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.infer import predict as predict_module
from napari_segdl.core.infer.options import PredictOptions, parameters
from napari_segdl.core.infer.runners import _RUNNERS, AUTO_MIN_PIXELS
from napari_segdl.core.worker import jobs
from napari_segdl.flows.files import predict_files

SOURCE = Path(napari_segdl.__file__).parent
NAMES = [item.name for item in parameters()]


@pytest.fixture(scope="module")
def rgb_model():
    """An untrained three-channel network: enough to see which engine runs it."""
    return untrained_model(channels=3)


def test_no_prediction_option_is_declared_twice():
    for function in (
        napari_segdl.predict,
        predict_module.run,
        predict_module.labels_and_probabilities,
        predict_files,
        jobs.predict_layer,
    ):
        declared = set(inspect.signature(function).parameters) & set(NAMES)
        assert not declared, f"{function.__name__} declares {declared} beside the schema"
    parser = inspect.getsource(parser_module._add_predict)
    widgets = "".join(p.read_text() for p in (SOURCE / "_widgets").glob("*.py"))
    for name in NAMES:
        assert f'"--{name.replace("_", "-")}"' not in parser
        if name != "channel_axis":  # the docks' shared channel-axis choice
            assert f'name="{name}"' not in widgets


def test_the_cli_and_the_api_share_the_defaults():
    args = build_parser().parse_args(["predict", "nuclei", "a.png", "--out", "o"])
    assert prediction_options(args) == {}
    assert PredictOptions.of(**prediction_options(args)) == PredictOptions()
    given = build_parser().parse_args(
        [
            "predict",
            "nuclei",
            "a.png",
            "--out",
            "o",
            "--tile",
            "512",
            "--tta",
            "--seed-level",
            "0.4",
        ]
    )
    assert PredictOptions.of(**prediction_options(given)) == PredictOptions(
        tile=512, tta=True, seed_level=0.4
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tile": 0}, "tile must be between 1 and"),
        ({"threshold": 1.5}, "threshold must be between 0.01 and 0.99"),
        ({"seed_level": "high"}, "seed_level must be a number"),
        ({"scale": 0.5, "diameter": 20.0}, "a scale or an object diameter, not both"),
        ({"engine": "tpu"}, "engine must be one of auto"),
    ],
)
def test_a_bad_option_is_refused_by_name(change, message):
    with pytest.raises(SegDLError, match=message):
        PredictOptions.of(**change)


def test_an_unknown_option_names_the_options():
    with pytest.raises(TypeError, match=r"Unknown prediction option.*tiles.*the options are"):
        napari_segdl.predict("nuclei", np.zeros((8, 8)), tiles=512)


def test_options_are_checked_for_the_model_before_any_file_is_read(tmp_path, rgb_model):
    missing = tmp_path / "nothing-here"
    with pytest.raises(SegDLError, match="levels are for instance models"):
        predict_files(rgb_model, [missing], tmp_path / "out", seed_level=0.4, progress=False)
    with pytest.raises(SegDLError, match="Linking slices is for instance models"):
        predict_files(rgb_model, [missing], tmp_path / "out", link_slices=0.5, progress=False)


def test_the_engine_counts_pixels_not_values(rgb_model):
    side = int(np.sqrt(AUTO_MIN_PIXELS)) - 24  # under the threshold in pixels, over it in values
    rgb = np.zeros((side, side, 3), np.uint8)
    assert rgb.size >= AUTO_MIN_PIXELS > side * side
    assert PredictOptions().resolved(rgb_model, rgb).engine == "keras"
    first = np.moveaxis(rgb, -1, 0)
    assert PredictOptions(channel_axis=0).resolved(rgb_model, first).engine == "keras"


@pytest.mark.slow
def test_the_engine_recorded_is_the_engine_that_ran(tmp_path, rgb_model):
    pytest.importorskip("openvino")
    pytest.importorskip("tf2onnx")
    side = int(np.sqrt(AUTO_MIN_PIXELS))
    rng = np.random.default_rng(0)
    for name, size in (("under", side - 24), ("over", side + 24)):
        tifffile.imwrite(tmp_path / f"{name}.tif", rng.integers(0, 255, (size, size, 3), np.uint8))
    for name, expected in (("under", "keras"), ("over", "openvino")):
        runners = _RUNNERS.get(rgb_model.keras_model, {})
        assert "openvino" not in runners or expected == "openvino"
        predict_files(rgb_model, [tmp_path / f"{name}.tif"], tmp_path / name, progress=False)
        with tifffile.TiffFile(tmp_path / name / f"{name}.tif") as written:
            assert written.shaped_metadata[0]["engine"] == expected
        ran = "openvino" in _RUNNERS.get(rgb_model.keras_model, {})
        assert ran == (expected == "openvino")


def test_lazy_prediction_warns_nothing(rgb_model):
    import dask.array as da

    image = da.from_array(np.random.default_rng(1).random((96, 80, 3), np.float32), chunks=48)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        labels = napari_segdl.predict(rgb_model, image)
        labels.compute()
