"""Bundled models by name: misspelt names, a file of the same name, a damaged file."""

import hashlib
import warnings

import pytest

from napari_segdl.core.bundle import ModelInfo, SegModel
from napari_segdl.core.errors import SegDLError
from napari_segdl.core.labels.modes import ClassMap
from napari_segdl.core.models import build_model
from napari_segdl.core.models.bundled import Bundled, BundledModels


@pytest.fixture
def registry(tmp_path):
    """A registry of one real (untrained) model bundle, as a package would ship it."""
    import numpy as np

    classes = ClassMap.from_labels([np.array([[0, 1]])], "dense")
    info = ModelInfo(
        arch="unet",
        arch_params={"depth": 2, "filters": 8},
        classes=classes.to_dict(),
        channels=1,
        normalization={"low": 1.0, "high": 99.8},
        patch=32,
    )
    folder = tmp_path / "bundled"
    folder.mkdir()
    path = SegModel(build_model("unet", 1, 2, depth=2, filters=8), info).save(
        folder / "tiny.keras"
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    entry = Bundled("tiny", "tiny.keras", digest, "Tiny (bundled)", "a test model")
    return BundledModels(folder, [entry])


def test_a_bundled_name_gives_its_checked_file(registry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert registry.resolve("tiny") == registry.folder / "tiny.keras"
    assert registry.lines() == ["tiny       Tiny (bundled): a test model"]


def test_a_misspelt_name_gets_the_list(registry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        SegDLError,
        match=r"'tinny' is neither a model file nor a bundled model\. "
        r"Did you mean 'tiny'\? Bundled models: tiny .*a test model",
    ):
        registry.resolve("tinny")
    assert registry.resolve("elsewhere/model.keras").name == "model.keras"  # a path: load says


def test_a_file_in_the_working_folder_wins_and_says_so(registry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny").write_text("a file of the user's")
    with pytest.warns(UserWarning, match="is loaded instead of the bundled model 'tiny'"):
        assert registry.resolve("tiny").resolve() == (tmp_path / "tiny").resolve()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        registry.resolve(tmp_path / "tiny")  # a path that is not a bundled name: no warning


def test_a_damaged_bundled_file_is_refused_before_loading(registry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = registry.folder / "tiny.keras"
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(SegDLError, match=r"'tiny' .* failed its integrity check .* nothing was"):
        registry.resolve("tiny")
    path.unlink()
    with pytest.raises(SegDLError, match="is missing from this installation"):
        registry.resolve("tiny")


def test_load_model_refuses_an_unknown_name(tmp_path, monkeypatch):
    from napari_segdl import load_model

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SegDLError, match="'nucleii' is neither a model file nor a bundled model"):
        load_model("nucleii")


def test_the_models_command_lists_the_bundled_models(capsys):
    from napari_segdl.cli import main
    from napari_segdl.core.models.bundled import BUNDLED

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in BUNDLED.names()) or "no bundled models" in out
