"""``napari-segdl predict`` at scale: batches with bad files, zarr, options, stacks, output checks."""

import os

import numpy as np
import pytest
import tifffile
import zarr
from PIL import Image

from helpers import TINY, make_blobs
from napari_segdl import load_model, predict, train
from napari_segdl.cli import main


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    image, labels = make_blobs()
    path = tmp_path_factory.mktemp("model") / "blobs.keras"
    train(image, labels, epochs=2, **TINY).save(path)
    return path


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for seed, stem in enumerate(["a", "b", "c"]):
        image = make_blobs(seed=seed)[0].clip(0, 255).astype(np.uint8)
        Image.fromarray(image).save(folder / f"{stem}.png")
    return folder


@pytest.mark.slow
def test_a_corrupt_file_is_reported_and_the_others_finish(model_file, images, tmp_path, capsys):
    (images / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a picture")
    out = tmp_path / "out"
    code = main(["predict", str(model_file), str(images), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "b.png" in err and "(skipped)" in err and "1 of 3 input(s) failed: b.png" in err
    assert sorted(p.name for p in out.iterdir()) == ["a.tif", "c.tif"]


@pytest.mark.slow
def test_options_stacks_and_zarr_output(model_file, images, tmp_path, capsys):
    stack = np.stack([make_blobs(seed=s)[0].clip(0, 255).astype(np.uint8) for s in range(3)])
    tifffile.imwrite(images / "stack.tif", stack, photometric="minisblack")
    out = tmp_path / "out"
    args = ["predict", str(model_file), str(images), "--out", str(out), "--format", "zarr"]
    assert main([*args, "--threshold", "0.6", "--tta", "--probabilities", "--tile", "128"]) == 0
    labels = zarr.open(str(out / "stack.zarr"), mode="r")
    assert labels.shape == stack.shape and labels.dtype == np.uint8
    scores = zarr.open(str(out / "stack_probabilities.zarr"), mode="r")
    assert scores.shape == (*stack.shape, 2)
    model = load_model(model_file)
    expected = predict(model, stack[1], threshold=0.6, tta=True, tile=128)
    np.testing.assert_array_equal(labels[1], expected)


@pytest.mark.slow
def test_a_big_tiff_is_predicted_lazily_into_a_tiff(model_file, tmp_path, monkeypatch):
    from napari_segdl.io import chunked as lazy

    monkeypatch.setattr(lazy, "LAZY_PIXELS", 10_000)  # this small TIFF counts as big
    image = np.tile(make_blobs()[0], (2, 2)).clip(0, 255).astype(np.uint8)
    tifffile.imwrite(tmp_path / "big.tif", image, tile=(64, 64), compression="zlib")
    out = tmp_path / "out"
    assert main(["predict", str(model_file), str(tmp_path / "big.tif"), "--out", str(out)]) == 0
    written = tifffile.imread(out / "big.tif")
    expected = predict(load_model(model_file), image)
    assert np.mean(written[24:-24, 24:-24] == expected[24:-24, 24:-24]) > 0.999


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unwritable", "Cannot write predictions to"),
        ("scheduler", "Cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"),
        ("small_tile", "tile 32 is too small for this model"),
        ("threshold_instance", "A threshold is for models of two classes"),
    ],
)
def test_bad_predict_input_is_one_line_and_exit_2(
    model_file, images, tmp_path, capsys, case, message
):
    out = tmp_path / "out"
    args = ["predict", str(model_file), str(images), "--out", str(out)]
    if case == "unwritable":
        blocker = tmp_path / "file"
        blocker.write_text("")
        args[-1] = str(blocker / "out")
    elif case == "scheduler":
        args += ["--scheduler", "tcp://127.0.0.1:9"]
    elif case == "small_tile":
        args += ["--tile", "32"]
    elif case == "threshold_instance":
        instances = np.zeros((96, 128), np.uint16)
        for i, centre in enumerate([(30, 30), (60, 90), (30, 100)], 1):
            instances[max(centre[0] - 8, 0) : centre[0] + 8, centre[1] - 8 : centre[1] + 8] = i
        image = make_blobs()[0]
        instance_model = train(image, instances, mode="instance", epochs=1, **TINY)
        args[1] = str(instance_model.save(tmp_path / "inst.keras"))
        args += ["--threshold", "0.5"]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
    assert not any(out.glob("*")) if out.exists() else True  # refused before any work
    if case == "unwritable":
        assert not os.path.exists(blocker / "out")


@pytest.mark.slow
def test_tiny_and_one_pixel_wide_images(model_file):
    model = load_model(model_file)
    image = make_blobs()[0]
    for shape in [(1, 1), (1, 128), (96, 1), (5, 7)]:
        assert predict(model, image[: shape[0], : shape[1]]).shape == shape
