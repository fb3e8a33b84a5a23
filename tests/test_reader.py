"""The npe2 reader: discovery never raises, and files open through napari's own viewer.open."""

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import yaml
from napari.errors import ReaderPluginError

import napari_segdl
from capture_files import HEIGHT, WIDTH, frames_folder, oriented_file, raw_dng, truncated, video
from napari_segdl._reader import get_reader
from napari_segdl.core.errors import SegDLError
from napari_segdl.io.captures import CAPTURE_SUFFIXES
from napari_segdl.io.nifti import NIFTI_SUFFIXES

PLUGIN = "napari-segdl"


def test_manifest_patterns_are_the_suffixes_the_reader_opens():
    manifest = yaml.safe_load((Path(napari_segdl.__file__).parent / "napari.yaml").read_text())
    (reader,) = manifest["contributions"]["readers"]
    opened = (*CAPTURE_SUFFIXES, *NIFTI_SUFFIXES)
    assert sorted(reader["filename_patterns"]) == sorted(f"*{s}" for s in opened)
    assert reader["accepts_directories"]


@pytest.mark.parametrize(
    "path",
    ["notes.txt", "scan.czi", "model.keras", "", "no_suffix", ["a.png", "b.mp4"], [], 42, None],
)
def test_get_reader_declines_what_it_does_not_read_without_raising(path):
    assert get_reader(path) is None


def test_get_reader_accepts_captures_folders_and_frame_lists(tmp_path):
    assert get_reader(str(tmp_path / "IMG_1.JPG")) is not None  # no need to exist yet
    assert get_reader(str(tmp_path / "clip.MOV")) is not None
    assert get_reader([str(tmp_path / "a.png"), str(tmp_path / "b.png")]) is not None
    assert get_reader(str(tmp_path)) is None  # a folder without frames
    assert get_reader(str(frames_folder(tmp_path / "frames"))) is not None


@pytest.mark.gui
def test_viewer_opens_a_phone_photo_upright_with_metadata(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    path = oriented_file(tmp_path / "portrait.png", 6)
    (layer,) = viewer.open(str(path), plugin=PLUGIN)
    assert layer.rgb and layer.data.shape == (HEIGHT, WIDTH, 3)
    assert layer.name == "portrait" and layer.metadata["camera_make"] == "Fairphone"


@pytest.mark.gui
def test_viewer_opens_raw_tiff_stack_and_frames(make_napari_viewer, tmp_path):
    import tifffile

    viewer = make_napari_viewer()
    stack = np.full((4, HEIGHT, WIDTH), 4000, np.uint16)
    tifffile.imwrite(
        tmp_path / "s.tif",
        stack,
        photometric="minisblack",
        resolution=(1e4, 1e4),
        resolutionunit=3,
    )
    (tiff,) = viewer.open(str(tmp_path / "s.tif"), plugin=PLUGIN)
    assert tiff.data.dtype == np.uint16 and tiff.data.shape == stack.shape
    assert tuple(tiff.scale) == pytest.approx((1.0, 1.0, 1.0))
    (raw,) = viewer.open(str(raw_dng(tmp_path / "r.dng", orientation=8)), plugin=PLUGIN)
    assert raw.rgb and raw.data.shape == (72, 48, 3) and raw.data.dtype == np.uint16
    (frames,) = viewer.open(str(frames_folder(tmp_path / "frames")), plugin=PLUGIN)
    assert isinstance(frames.data, da.Array) and frames.data.shape == (12, 16, 20)


@pytest.mark.gui
def test_viewer_opens_video_lazily_and_shows_the_frame_on_screen(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    (layer,) = viewer.open(str(video(tmp_path / "clip.mp4", frames=30)), plugin=PLUGIN)
    assert isinstance(layer.data, da.Array) and layer.data.shape == (30, 48, 64, 3)
    assert layer.metadata["frame_rate"] == 25 and layer.rgb
    viewer.dims.set_current_step(0, 20)
    shown = np.asarray(layer._slice.image.view)
    assert abs(float(shown.mean()) - 160) < 4


@pytest.mark.gui
def test_viewer_reports_a_damaged_file_by_name(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    good = oriented_file(tmp_path / "good.png", 1)
    # napari raises the reader's error as it is, or wrapped when it chose the reader itself
    with pytest.raises((SegDLError, ReaderPluginError)) as error:
        viewer.open(str(truncated(good, tmp_path / "broken.png", keep=0.6)), plugin=PLUGIN)
    message = str(getattr(error.value, "original_error", None) or error.value)
    assert "broken.png" in message and "truncated" in message
    assert len(viewer.layers) == 0
