"""Camera captures through the core reader (no viewer): orientation, bit depth, metadata, laziness."""

import dask.array as da
import numpy as np
import pytest
import tifffile
from PIL import Image

from capture_files import (
    HEIGHT,
    WIDTH,
    camera_exif,
    frames_folder,
    oriented_file,
    picture,
    png_bomb,
    raw_dng,
    truncated,
    video,
)
from napari_segdl.core.errors import SegDLError
from napari_segdl.io.captures import read_capture


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_opens_upright(tmp_path, orientation):
    capture = read_capture(oriented_file(tmp_path / f"o{orientation}.png", orientation))
    np.testing.assert_array_equal(capture.data, picture())
    assert capture.rgb and capture.metadata["exif_orientation"] == orientation


def test_portrait_jpeg_from_a_phone_is_portrait_with_camera_metadata(tmp_path):
    path = tmp_path / "IMG_0001.JPG"
    Image.fromarray(picture()).transpose(Image.Transpose.ROTATE_90).save(
        path, quality=95, exif=camera_exif(orientation=6).tobytes()
    )
    capture = read_capture(path)
    assert capture.data.shape == (HEIGHT, WIDTH, 3) and capture.data.dtype == np.uint8
    assert capture.data[:6, :9].min() > 200  # the white corner is top-left again
    assert capture.name == "IMG_0001"
    meta = capture.metadata
    assert (meta["camera_make"], meta["camera_model"]) == ("Fairphone", "FP5")
    assert meta["exposure_time_s"] == pytest.approx(1 / 125)
    assert (meta["iso"], meta["f_number"], meta["focal_length_mm"]) == (200, 1.9, 4.5)
    assert meta["capture_time"] == "2026-05-17T14:03:59"
    assert meta["gps"] == pytest.approx(
        {"latitude": -33.86, "longitude": 151.21, "altitude_m": 58}
    )


@pytest.mark.parametrize("suffix", [".bmp", ".webp", ".png"])
def test_other_stills_keep_their_pixels(tmp_path, suffix):
    path = tmp_path / f"still{suffix}"
    Image.fromarray(picture()).save(path, **({"lossless": True} if suffix == ".webp" else {}))
    np.testing.assert_array_equal(read_capture(path).data, picture())


def test_grey_16_bit_png_and_palette_png(tmp_path):
    grey = (np.arange(HEIGHT * WIDTH).reshape(HEIGHT, WIDTH) * 70).astype(np.uint16)
    Image.fromarray(grey).save(tmp_path / "grey16.png")
    capture = read_capture(tmp_path / "grey16.png")
    assert capture.data.dtype == np.uint16 and not capture.rgb
    np.testing.assert_array_equal(capture.data, grey)
    Image.fromarray(picture()).convert("P").save(tmp_path / "palette.png")
    assert read_capture(tmp_path / "palette.png").data.shape == (HEIGHT, WIDTH, 3)


def test_heic_from_a_phone(tmp_path):
    import pillow_heif

    pillow_heif.register_heif_opener()
    path = tmp_path / "IMG_0002.HEIC"
    # pillow-heif stores EXIF orientation 6 as a HEIF rotation, as phones do
    landscape = Image.fromarray(picture()).transpose(Image.Transpose.ROTATE_90)
    landscape.save(path, quality=-1, exif=camera_exif(orientation=6).tobytes())
    capture = read_capture(path)
    assert capture.data.shape == (HEIGHT, WIDTH, 3) and capture.rgb
    assert capture.data[:6, :9].min() > 200
    assert capture.metadata["camera_model"] == "FP5"
    assert "exif_orientation" not in capture.metadata  # libheif already turned it


def test_ten_bit_heic_keeps_its_depth(tmp_path):
    import pillow_heif

    deep = picture(dtype=np.uint16)
    pillow_heif.from_bytes(mode="RGB;16", size=(WIDTH, HEIGHT), data=deep.tobytes()).save(
        tmp_path / "deep.heic", quality=-1
    )
    capture = read_capture(tmp_path / "deep.heic")
    assert capture.data.dtype == np.uint16 and capture.data.max() > 60000


def test_multipage_16_bit_tiff_is_a_stack_with_pixel_size(tmp_path):
    stack = np.random.default_rng(0).integers(0, 4096, (5, HEIGHT, WIDTH), dtype=np.uint16)
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, stack, resolution=(1e4 / 0.65, 1e4 / 0.65), resolutionunit="CENTIMETER")
    capture = read_capture(path)
    assert isinstance(capture.data, np.memmap)  # uncompressed: mapped, not read
    np.testing.assert_array_equal(capture.data, stack)
    assert capture.scale == pytest.approx((1.0, 0.65, 0.65))
    assert capture.metadata["pixel_size_um"] == pytest.approx([0.65, 0.65])


def test_imagej_tiff_gives_z_spacing_and_compressed_tiff_is_read(tmp_path):
    stack = np.ones((3, HEIGHT, WIDTH), np.uint16)
    path = tmp_path / "zstack.tif"
    tifffile.imwrite(
        path,
        stack,
        imagej=True,
        resolution=(1 / 0.2, 1 / 0.2),
        metadata={"unit": "um", "spacing": 1.5, "axes": "ZYX"},
        compression="zlib",
    )
    capture = read_capture(path)
    assert not isinstance(capture.data, np.memmap)
    assert capture.scale == pytest.approx((1.5, 0.2, 0.2))
    assert capture.axis_labels == ("z", "y", "x")


def test_inch_resolution_is_not_taken_as_pixel_size(tmp_path):
    tifffile.imwrite(tmp_path / "print.tif", picture(), resolution=(300, 300), resolutionunit=2)
    capture = read_capture(tmp_path / "print.tif")
    assert capture.scale is None and capture.metadata["resolution_dpi"] == 300
    assert capture.rgb


@pytest.mark.parametrize(("orientation", "shape"), [(1, (48, 72)), (6, (72, 48))])
def test_camera_raw_is_demosaiced_to_16_bit_rgb_upright(tmp_path, orientation, shape):
    capture = read_capture(raw_dng(tmp_path / f"DSC_{orientation}.DNG", orientation))
    assert capture.data.shape == (*shape, 3) and capture.data.dtype == np.uint16
    assert capture.rgb and capture.data.max() > 255
    assert (capture.metadata["camera_make"], capture.metadata["camera_model"]) == ("Nikon", "Z 6")


@pytest.mark.parametrize(
    ("suffix", "codec"),
    [(".mp4", "libx264"), (".mov", "mpeg4"), (".mkv", "mpeg4"), (".avi", "mpeg4")],
)
def test_video_is_a_lazy_time_stack_with_exact_frames(tmp_path, suffix, codec):
    capture = read_capture(video(tmp_path / f"clip{suffix}", frames=30, codec=codec))
    assert isinstance(capture.data, da.Array) and capture.data.chunksize[0] == 1
    assert capture.data.shape == (30, 48, 64, 3) and capture.rgb
    assert capture.metadata["frame_rate"] == 25 and capture.axis_labels == ("t", "y", "x")
    for index in (0, 17, 29, 3, 4, 28, 9):  # forward, backward, jumps
        assert abs(float(capture.data[index].mean()) - 8 * index) < 4, index


def test_folder_of_frames_stacks_in_natural_order_lazily(tmp_path):
    capture = read_capture(frames_folder(tmp_path / "timelapse"))
    assert isinstance(capture.data, da.Array)
    assert capture.data.shape == (12, 16, 20) and capture.name == "timelapse"
    np.testing.assert_array_equal(capture.data[:, 0, 0].compute(), np.arange(1, 13))
    files = [tmp_path / "timelapse" / f"frame{n}.png" for n in (10, 2, 1)]
    listed = read_capture(files)
    np.testing.assert_array_equal(listed.data[:, 0, 0].compute(), [1, 2, 10])


# ---- bad input -----------------------------------------------------------------------------


def test_frames_of_different_sizes_are_refused_naming_the_frame(tmp_path):
    folder = frames_folder(tmp_path / "mixed", count=3)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(folder / "frame4.png")
    with pytest.raises(SegDLError, match=r"frame4\.png.*same size"):
        read_capture(folder)


def test_truncated_and_corrupt_files_name_the_file(tmp_path):
    jpeg = tmp_path / "good.jpg"
    Image.fromarray(picture(240, 320)).save(jpeg)
    with pytest.raises(SegDLError, match=r"half\.jpg.*truncated"):
        read_capture(truncated(jpeg, tmp_path / "half.jpg"))
    (tmp_path / "noise.png").write_bytes(np.random.default_rng(0).bytes(500))
    with pytest.raises(SegDLError, match=r"noise\.png.*corrupt"):
        read_capture(tmp_path / "noise.png")
    clip = video(tmp_path / "clip.mp4")
    with pytest.raises(SegDLError, match=r"cut\.mp4"):
        read_capture(truncated(clip, tmp_path / "cut.mp4", keep=0.3))
    with pytest.raises(SegDLError, match=r"cut\.dng"):
        read_capture(truncated(raw_dng(tmp_path / "x.dng"), tmp_path / "cut.dng", keep=0.01))


def test_decompression_bombs_are_refused_before_decoding(tmp_path):
    with pytest.raises(SegDLError, match=r"bomb\.png"):
        read_capture(png_bomb(tmp_path / "bomb.png"))
    path = tmp_path / "huge.tif"  # 20000 x 20000 declared, stored sparse
    tifffile.imwrite(path, shape=(20_000, 20_000), dtype=np.uint8)
    with pytest.raises(SegDLError, match=r"huge\.tif.*safety limit"):
        read_capture(path)


def test_missing_unknown_and_empty_inputs(tmp_path):
    with pytest.raises(SegDLError, match="does not exist"):
        read_capture(tmp_path / "nope.jpg")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(SegDLError, match=r"notes\.txt.*not a capture or volume"):
        read_capture(tmp_path / "notes.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SegDLError, match="no frames"):
        read_capture(tmp_path / "empty")


def test_planar_rgb_tiff_has_colour_last(tmp_path):
    planar = np.moveaxis(picture(), -1, 0)
    tifffile.imwrite(tmp_path / "planar.tif", planar, photometric="rgb", planarconfig="separate")
    capture = read_capture(tmp_path / "planar.tif")
    assert capture.rgb
    np.testing.assert_array_equal(capture.data, picture())


def test_metadata_is_plain_json_for_every_kind_of_capture(tmp_path):
    """Nothing from a file is kept as an object (or evaluated): the metadata is plain JSON."""
    import json

    paths = [
        oriented_file(tmp_path / "photo.png", 3),
        raw_dng(tmp_path / "raw.dng"),
        video(tmp_path / "clip.mov", frames=3),
        frames_folder(tmp_path / "frames", count=2),
    ]
    tifffile.imwrite(tmp_path / "cells.tif", picture(), resolution=(5000, 5000), resolutionunit=3)
    for path in [*paths, tmp_path / "cells.tif"]:
        metadata = read_capture(path).metadata
        assert json.loads(json.dumps(metadata)) == metadata, path
