import os
import re
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
from PIL import Image

from capture_files import camera_exif
from helpers import make_blobs, tensorflow_only
from napari_segdl.cli import main

TINY_ARGS = [
    "--filters",
    "8",
    "--depth",
    "2",
    "--patch",
    "32",
    "--batch",
    "4",
    "--epochs",
    "2",
    "--steps-per-epoch",
    "4",
]


@pytest.fixture
def dataset(tmp_path):
    for folder in ("images", "labels"):
        (tmp_path / folder).mkdir()
    for stem in ("a", "b"):
        image, labels = make_blobs(seed=ord(stem))
        iio.imwrite(tmp_path / "images" / f"{stem}.png", image.clip(0, 255).astype(np.uint8))
        tifffile.imwrite(tmp_path / "labels" / f"{stem}.tif", labels)
    return tmp_path


def _train(images, labels, out, *extra) -> int:
    return main(["train", str(images), str(labels), "--out", str(out), *extra])


@pytest.mark.slow
def test_train_then_predict(dataset, capsys):
    model = dataset / "model.keras"
    assert _train(dataset / "images", dataset / "labels", model, *TINY_ARGS) == 0
    assert model.is_file()
    out = dataset / "pred"
    assert (
        main(
            ["predict", str(model), str(dataset / "images"), "--out", str(out), "--probabilities"]
        )
        == 0
    )
    labels = tifffile.imread(out / "a.tif")
    assert labels.shape == (96, 128) and set(np.unique(labels)) <= {0, 255}
    with tifffile.TiffFile(out / "a.tif") as written:
        assert written.shaped_metadata[0]["engine"] == "keras"  # auto: a small image
    again = dataset / "again"
    assert (
        main(
            [
                "predict",
                str(model),
                str(dataset / "images"),
                "--out",
                str(again),
                "--engine",
                "onnxruntime",
            ]
        )
        == 0
    )
    np.testing.assert_array_equal(tifffile.imread(again / "a.tif"), labels)
    with tifffile.TiffFile(again / "a.tif") as written:
        assert written.shaped_metadata[0]["engine"] == "onnxruntime"
    assert tifffile.imread(out / "b_probabilities.tif").shape == (96, 128, 2)
    assert "wrote 2 label image(s)" in capsys.readouterr().out


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "napari_segdl.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--patch", "100"], "patch 100 is not a multiple of 2**depth = 16"),
        (["--epochs", "0"], "epochs must be between 1 and 100000; received 0"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(dataset, args, message):
    result = _run(
        "train",
        str(dataset / "images"),
        str(dataset / "labels"),
        "--out",
        str(dataset / "m.keras"),
        *args,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_input_errors_exit_2(dataset, tmp_path):
    not_bundle = tmp_path / "x.keras"
    not_bundle.write_text("nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["predict", str(not_bundle), str(dataset / "images"), "--out", str(tmp_path)]) == 2
    assert _train(empty, dataset / "labels", tmp_path / "m.keras") == 2  # no images
    assert _train(dataset / "images", dataset / "labels", tmp_path / "m.h5") == 2  # not .keras
    (dataset / "labels" / "b.tif").rename(dataset / "labels" / "c.tif")
    assert _train(dataset / "images", dataset / "labels", tmp_path / "m.keras") == 2  # unpaired


def test_help_lists_commands():
    result = _run("--help")
    assert result.returncode == 0
    assert all(word in result.stdout for word in ("train", "predict", "demo"))


@pytest.mark.slow
def test_predict_turns_a_camera_photo_upright_by_its_exif_orientation(tmp_path, trained_model):
    """A grey photo stored landscape with orientation 6 gives a portrait mask."""
    image, _ = make_blobs(shape=(40, 64))
    photo = tmp_path / "portrait.jpg"
    Image.fromarray(image.clip(0, 255).astype(np.uint8)).save(
        photo, exif=camera_exif(orientation=6).tobytes()
    )
    model = trained_model.save(tmp_path / "m.keras")
    assert main(["predict", str(model), str(photo), "--out", str(tmp_path / "out")]) == 0
    assert tifffile.imread(tmp_path / "out" / "portrait.tif").shape == (64, 40)


@pytest.mark.slow
def test_preprocess_then_train_with_the_recipe_then_predict_raw_images(dataset, capsys):
    """The CLI loop with a recipe: preprocess files, train on them, predict the raw files."""
    from napari_segdl import load_model
    from napari_segdl.core.preprocess import Recipe, recipe_of

    recipe = Recipe.coerce([{"op": "resize", "factor": 0.5}, {"op": "median", "radius": 1}])
    recipe_file = recipe.save(dataset / "recipe.json")
    out = dataset / "pre"
    assert main(["preprocess", str(recipe_file), str(dataset / "images"), "--out", str(out)]) == 0
    small = tifffile.imread(out / "a.tif")
    assert small.shape == (48, 64)
    with tifffile.TiffFile(out / "a.tif") as tif:
        metadata = tif.shaped_metadata[0]
    assert metadata["napari_segdl"]["recipe"] == recipe.to_dict()  # one key, not nested twice
    assert recipe_of(metadata) == recipe.to_dict() and "napari_segdl_recipe" not in metadata
    (dataset / "small_labels").mkdir()
    for stem in ("a", "b"):
        labels = tifffile.imread(dataset / "labels" / f"{stem}.tif")
        tifffile.imwrite(dataset / "small_labels" / f"{stem}.tif", labels[::2, ::2])
    model = dataset / "m.keras"
    args = ["train", str(out), str(dataset / "small_labels"), "--out", str(model), *TINY_ARGS]
    assert main([*args, "--recipe", str(recipe_file)]) == 0
    assert Recipe.coerce(load_model(model).info.recipe) == recipe
    assert main(["predict", str(model), str(dataset / "images"), "--out", str(dataset / "p")]) == 0
    assert tifffile.imread(dataset / "p" / "a.tif").shape == (96, 128)  # the raw shape


def test_preprocess_with_a_bad_recipe_is_one_line_and_exit_2(dataset, capsys):
    recipe = dataset / "recipe.json"
    recipe.write_text('{"steps": [{"op": "sharpen"}]}')
    assert main(["preprocess", str(recipe), str(dataset / "images"), "--out", "x"]) == 2
    message = capsys.readouterr().err.strip()
    assert "'sharpen'" in message and "recipe.json" in message and "\n" not in message
    assert main(["preprocess", str(dataset / "missing.json"), str(dataset), "--out", "x"]) == 2


@pytest.fixture
def scored(tmp_path):
    """Predictions and truths as files: a.tif perfect, b.tif with one object missed."""
    from skimage.measure import label

    for folder in ("pred", "truth"):
        (tmp_path / folder).mkdir()
    for stem in ("a", "b"):
        _, mask = make_blobs(seed=ord(stem), value=1)
        truth = label(mask).astype(np.uint16)
        prediction = truth.copy()
        if stem == "b":
            prediction[prediction == 1] = 0
        tifffile.imwrite(tmp_path / "truth" / f"{stem}.tif", truth)
        tifffile.imwrite(tmp_path / "pred" / f"{stem}.tif", prediction)
    return tmp_path


def test_evaluate_prints_one_json_object_with_instance_figures(scored, capsys):
    import json

    args = ["evaluate", str(scored / "pred"), str(scored / "truth"), "--instance", "--json"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"iou", "dice", "pixel_accuracy", "ap50", "f1_50", "ap50_95"} <= set(result)
    assert [row["name"] for row in result["per_image"]] == ["a", "b"]
    assert result["per_image"][0]["ap50"] == 1.0 and result["per_image"][1]["ap50"] < 1.0
    assert main(["evaluate", str(scored / "pred"), str(scored / "truth")]) == 0
    assert "mean" in capsys.readouterr().out


def test_evaluate_bad_pairs_are_one_line_and_exit_2(scored, capsys):
    (scored / "truth" / "c.tif").write_bytes((scored / "truth" / "a.tif").read_bytes())
    assert main(["evaluate", str(scored / "pred"), str(scored / "truth")]) == 2
    assert "c" in capsys.readouterr().err
    tifffile.imwrite(scored / "small.tif", np.ones((4, 4), np.uint8))
    assert main(["evaluate", str(scored / "small.tif"), str(scored / "truth" / "a.tif")]) == 2
    assert "differs from truth shape" in capsys.readouterr().err


@pytest.mark.slow
def test_train_records_the_run_and_runs_lists_it(dataset, capsys):
    import json

    model = dataset / "m.keras"
    assert (
        main(
            [
                "train",
                str(dataset / "images"),
                str(dataset / "labels"),
                "--out",
                str(model),
                *TINY_ARGS,
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["runs", "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["bundle"] == str(model) and run["params"]["filters"] == 8
    assert run["epochs_run"] == 2 and len(run["data"]) == 2 and run["seconds"] > 0
    assert main(["runs"]) == 0
    assert run["id"] in capsys.readouterr().out


@pytest.mark.slow
def test_train_continues_from_a_saved_model(dataset):
    from napari_segdl import load_model

    first = dataset / "first.keras"
    args = ["train", str(dataset / "images"), str(dataset / "labels"), *TINY_ARGS]
    assert main([*args, "--out", str(first)]) == 0
    assert main([*args, "--out", str(dataset / "more.keras"), "--from-model", str(first)]) == 0
    assert load_model(dataset / "more.keras").info.training["continued_from"]["epochs_run"] == 2


def _colour_mask(labels):
    """Dense labels painted in colour, as many tools export masks: red objects on black."""
    rgb = np.zeros((*labels.shape, 3), np.uint8)
    rgb[labels > 0] = (255, 0, 0)
    rgb[:8, :8] = (0, 0, 255)  # a second colour
    return rgb


def test_colour_label_files_are_refused_or_converted_on_purpose(dataset, capsys):
    for stem in ("a", "b"):
        labels = tifffile.imread(dataset / "labels" / f"{stem}.tif")
        (dataset / "labels" / f"{stem}.tif").unlink()
        iio.imwrite(dataset / "labels" / f"{stem}.png", _colour_mask(labels))
    model = dataset / "m.keras"
    assert _train(dataset / "images", dataset / "labels", model, *TINY_ARGS) == 2
    err = capsys.readouterr().err
    assert "a.png' is a colour image" in err and "--colour-labels" in err and not model.exists()


@pytest.mark.slow
def test_colour_labels_train_when_converted(dataset):
    from napari_segdl import load_model

    labels = tifffile.imread(dataset / "labels" / "a.tif")
    (dataset / "labels" / "a.tif").unlink()
    (dataset / "labels" / "b.tif").unlink()
    for stem in ("a", "b"):
        iio.imwrite(dataset / "labels" / f"{stem}.png", _colour_mask(labels))
    model = dataset / "m.keras"
    args = [*TINY_ARGS, "--colour-labels"]
    assert _train(dataset / "images", dataset / "labels", model, *args) == 0
    assert list(load_model(model).class_map.values) == [0, 1, 2]


def test_evaluate_refuses_what_is_not_a_label_image(tmp_path, capsys):
    truth = np.zeros((16, 16), np.uint8)
    truth[4:9, 4:9] = 1
    tifffile.imwrite(tmp_path / "truth.tif", truth)
    tifffile.imwrite(tmp_path / "scores.tif", truth.astype(np.float32) * 0.7)
    assert main(["evaluate", str(tmp_path / "scores.tif"), str(tmp_path / "truth.tif")]) == 2
    assert "is not a label image" in capsys.readouterr().err
    photo = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    iio.imwrite(tmp_path / "photo.png", photo)
    assert main(["evaluate", str(tmp_path / "photo.png"), str(tmp_path / "truth.tif")]) == 2
    assert "photo.png' is a colour image" in capsys.readouterr().err


def test_a_folder_given_as_the_model_says_so(dataset, capsys):
    code = main(["predict", str(dataset), str(dataset / "images"), "--out", str(dataset / "o")])
    assert code == 2
    assert "is a folder; choose a model file (.keras)" in capsys.readouterr().err


@pytest.mark.slow
@tensorflow_only
def test_tensorflow_start_up_lines_stay_off_the_terminal_unless_verbose(tmp_path, trained_model):
    model = trained_model.save(tmp_path / "m.keras")
    image, _ = make_blobs()
    iio.imwrite(tmp_path / "a.png", image.clip(0, 255).astype(np.uint8))
    args = ["predict", str(model), str(tmp_path / "a.png"), "--out", str(tmp_path / "o")]
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    quiet = subprocess.run(
        [sys.executable, "-m", "napari_segdl.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert quiet.returncode == 0, quiet.stderr
    assert "I0000" not in quiet.stderr and "cuInit" not in quiet.stderr, quiet.stderr
    loud = subprocess.run(
        [sys.executable, "-m", "napari_segdl.cli", "--verbose", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert loud.returncode == 0 and "0000 00:00" in loud.stderr, loud.stderr


@pytest.mark.slow
def test_the_demo_runs_a_correction_round_on_a_tissue_section(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--max-time", "5"]) == 0
    out = capsys.readouterr().out
    assert "Bundled nuclei model on the right half: F1@0.5" in out
    assert "adapted to the 90 corrected nuclei" in out
    assert re.search(r"\d+ training steps in \d+ s", out)
    assert "on the right half (not trained on): F1@0.5" in out
    assert "on the 4 fluorescence samples (what it knew) F1@0.5" in out
    names = (
        "nuclei-fine-tuned.keras",
        "section_right_bundled.tif",
        "section_right_fine_tuned.tif",
    )
    for name in names:
        assert (tmp_path / name).is_file()
