"""Preprocessing operations and recipes: shapes, dtypes, labels, stacks, dask, JSON, bad input."""

import json

import dask.array as da
import numpy as np
import pytest

from helpers import TINY, make_blobs
from napari_segdl import Recipe, SegDLError, load_model, predict, preprocess, train
from napari_segdl.core.preprocess import OPERATIONS, RECIPE_VERSION, restore
from napari_segdl.core.preprocess.apply import plan

RNG = np.random.default_rng(0)
GREY = RNG.integers(0, 200, (40, 52)).astype(np.uint8)
RGB = RNG.integers(0, 255, (40, 52, 3)).astype(np.uint8)
PARAMS = {"resize": {"factor": 0.5}, "pick_channels": {"order": [2, 0]}}


def _cases():
    for op, operation in sorted(OPERATIONS.items()):
        if not (operation.needs_colour or op == "pick_channels"):
            yield pytest.param(op, GREY, id=f"{op}-grey")
        if not operation.needs_grey:
            yield pytest.param(op, RGB, id=f"{op}-rgb")


@pytest.mark.parametrize(("op", "image"), list(_cases()))
def test_every_operation_returns_what_its_plan_says(op, image):
    channels = image.ndim == 3
    recipe = [{"op": op, **PARAMS.get(op, {})}]
    out = preprocess(image, recipe, channels=channels)
    shape, dtype = plan(Recipe.coerce(recipe), image.shape, image.dtype, channels, False, "x")
    assert out.shape == shape and out.dtype == dtype
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(image, RGB if channels else GREY)  # input untouched


def test_resize_anti_aliases_images_and_keeps_label_ids():
    checker = (np.indices((64, 64)).sum(0) % 2 * 255).astype(np.uint8)
    small = preprocess(checker, [{"op": "resize", "factor": 0.25}])
    assert small.shape == (16, 16) and 100 < small.mean() < 155 and small.std() < 30
    labels = np.zeros((30, 40), np.uint16)
    labels[2:20, 3:15], labels[18:28, 20:39] = 7, 300
    for recipe in (
        [{"op": "resize", "factor": 2.5}],
        [{"op": "resize", "height": 9, "width": 11}],
    ):
        out = preprocess(labels, recipe, labels=True)
        assert out.dtype == np.uint16 and set(np.unique(out)) == {0, 7, 300}
    back = restore(preprocess(labels, [{"op": "resize", "factor": 2}], labels=True), (30, 40))
    np.testing.assert_array_equal(back, labels)


def test_stacks_are_processed_slice_by_slice_and_dask_stays_lazy():
    stack = np.stack([GREY, GREY[::-1], GREY[:, ::-1]])
    recipe = Recipe.coerce([{"op": "resize", "factor": 0.5}, {"op": "gaussian", "sigma": 1.5}])
    eager = preprocess(stack, recipe)
    assert eager.shape == (3, 20, 26)
    np.testing.assert_allclose(eager[1], preprocess(GREY[::-1], recipe))
    lazy = preprocess(da.from_array(stack, chunks=(1, 40, 52)), recipe)
    assert isinstance(lazy, da.Array) and lazy.shape == eager.shape
    np.testing.assert_allclose(lazy.compute(), eager)
    colour_stack = preprocess(np.stack([RGB, RGB]), [{"op": "rgb_to_grey"}], channels=True)
    assert colour_stack.shape == (2, 40, 52)


def test_recipe_round_trips_through_json_files(tmp_path):
    recipe = Recipe.coerce(
        [
            {"op": "resize", "height": 20, "width": 26},
            {"op": "median", "radius": 2},
            {"op": "percentile", "low": 2, "high": 98},
        ]
    )
    path = recipe.save(tmp_path / "recipe.json")
    loaded = Recipe.load(path)
    assert loaded == recipe and json.loads(path.read_text())["napari_segdl_recipe"] == 1
    assert [s.op for s in loaded.geometric().steps] == ["resize"]
    np.testing.assert_array_equal(preprocess(GREY, path), preprocess(GREY, recipe))


# ---- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [{"height": 0, "width": 10}, {"height": -5, "width": 10}, {"factor": 0}, {"factor": -0.5}],
)
def test_resize_to_zero_or_negative_size_is_refused(params):
    with pytest.raises(SegDLError, match="'resize'"):
        Recipe.coerce([{"op": "resize", **params}])


def test_colour_operation_on_a_grey_image_names_step_and_image():
    with pytest.raises(SegDLError, match=r"Step 2 \('rgb_to_bgr'\).*RGB.*'cells' is grey"):
        preprocess(GREY, [{"op": "gaussian"}, {"op": "rgb_to_bgr"}], name="'cells'")
    with pytest.raises(SegDLError, match="picks channels"):
        preprocess(RGB, [{"op": "pick_channels", "order": [3]}])


def test_resize_needs_both_height_and_width():
    with pytest.raises(SegDLError, match="both height and width"):
        Recipe.coerce([{"op": "resize", "height": 10}])


def test_denoising_labels_is_refused():
    with pytest.raises(SegDLError, match=r"'median'.*label values of labels 'nuclei'"):
        preprocess(GREY, [{"op": "median"}], labels=True, name="labels 'nuclei'")


def test_bad_recipe_files_are_named(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"steps": [')
    with pytest.raises(SegDLError, match=r"broken\.json.*not valid JSON"):
        Recipe.load(broken)
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"steps": [{"op": "gaussian"}, {"op": "sharpen"}]}))
    with pytest.raises(SegDLError, match=r"unknown\.json.*step 2.*'sharpen'"):
        Recipe.load(unknown)
    with pytest.raises(SegDLError, match="has no parameter 'radius'"):
        Recipe.coerce([{"op": "gaussian", "radius": 3}])


def test_recipe_from_a_newer_version_is_refused():
    with pytest.raises(SegDLError, match=r"newer napari-segdl.*Upgrade"):
        Recipe.from_dict({"napari_segdl_recipe": RECIPE_VERSION + 1, "steps": []})


def test_nan_in_an_image_is_refused():
    image = GREY.astype(np.float32)
    image[3, 4] = np.nan
    with pytest.raises(SegDLError, match="'scan' contains NaN"):
        preprocess(image, [{"op": "gaussian"}], name="'scan'")


# ---- the recipe travels with the model ----------------------------------------------------


@pytest.mark.slow
def test_model_trained_on_preprocessed_data_predicts_raw_images_in_their_shape(tmp_path):
    """Train on a resized + denoised image; predicting the raw image applies the same recipe."""
    raw, labels = make_blobs(shape=(128, 160), value=1)
    recipe = Recipe.coerce([{"op": "resize", "factor": 0.5}, {"op": "gaussian", "sigma": 1}])
    model = train(
        preprocess(raw, recipe),
        preprocess(labels, recipe.geometric(), labels=True),
        recipe=recipe,
        epochs=2,
        **TINY,
    )
    model = load_model(model.save(tmp_path / "m.keras"))
    assert Recipe.coerce(model.info.recipe) == recipe
    masks = predict(model, raw)
    assert masks.shape == raw.shape and masks.dtype == labels.dtype
    on_preprocessed = predict(model, preprocess(raw, recipe), preprocess=False)
    np.testing.assert_array_equal(masks, restore(on_preprocessed, raw.shape))
    probabilities = predict(model, raw, probabilities=True)
    assert probabilities.shape == (*raw.shape, 2)
