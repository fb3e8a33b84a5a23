"""Camera-capture fixtures written by the real libraries: Pillow, pillow-heif, tifffile, PyAV."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

#: A test picture whose orientation is easy to check: a bright top-left corner, 24 x 36.
HEIGHT, WIDTH = 24, 36


def picture(height=HEIGHT, width=WIDTH, dtype=np.uint8) -> np.ndarray:
    """An RGB gradient with a white block in the top-left corner."""
    top = np.iinfo(dtype).max
    y, x = np.mgrid[:height, :width]
    rgb = np.stack([x * top // width, y * top // height, np.full_like(x, top // 3)], axis=-1)
    rgb[:6, :9] = top
    return rgb.astype(dtype)


def camera_exif(orientation=1, gps=True):
    """A Pillow ``Exif`` as a phone writes it: make, model, exposure, ISO, focal length, GPS."""
    from PIL import ExifTags, Image

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Fairphone"
    exif[ExifTags.Base.Model] = "FP5"
    exif[ExifTags.Base.Orientation] = orientation
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.ExposureTime] = 1 / 125
    details[ExifTags.Base.FNumber] = 1.9
    details[ExifTags.Base.ISOSpeedRatings] = 200
    details[ExifTags.Base.FocalLength] = 4.5
    details[ExifTags.Base.DateTimeOriginal] = "2026:05:17 14:03:59"
    if gps:
        location = exif.get_ifd(ExifTags.IFD.GPSInfo)
        location.update({1: "S", 2: (33.0, 51.0, 36.0), 3: "E", 4: (151.0, 12.0, 36.0), 6: 58.0})
    return exif


def oriented_file(path: Path, orientation: int) -> Path:
    """``picture()`` stored the way a camera held at ``orientation`` stores it (lossless PNG).

    The pixels are turned by the inverse of the orientation, so every file shows the same
    upright picture once its EXIF orientation is applied.
    """
    from PIL import Image

    inverse = {
        1: None,
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }[orientation]
    image = Image.fromarray(picture())
    stored = image.transpose(inverse) if inverse is not None else image
    stored.save(path, exif=camera_exif(orientation).tobytes())
    return path


def raw_dng(path: Path, orientation: int = 1) -> Path:
    """A minimal Bayer (RGGB) DNG with make and model, as LibRaw reads it."""
    import tifffile

    rng = np.random.default_rng(0)
    mosaic = rng.integers(800, 3000, (HEIGHT * 2, WIDTH * 2)).astype(np.uint16)
    tags = [
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern: R G / G B
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50708, "s", 0, "Nikon Z 6", True),  # UniqueCameraModel
        (50717, "H", 1, 4095, True),  # WhiteLevel
        (271, "s", 0, "Nikon", True),  # Make
        (272, "s", 0, "Z 6", True),  # Model
        (274, "H", 1, orientation, True),  # Orientation
    ]
    tifffile.imwrite(path, mosaic, photometric=32803, extratags=tags, metadata=None)
    return path


def video(path: Path, frames=30, size=(48, 64), codec="mpeg4", rate=25) -> Path:
    """A video whose frame ``i`` is uniformly grey at level ``8 * i``."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.height, stream.width = size
        stream.pix_fmt = "yuv420p"
        for index in range(frames):
            pixels = np.full((*size, 3), 8 * index, np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def frames_folder(folder: Path, count=12, size=(16, 20)) -> Path:
    """PNG frames ``frame1.png``..``frame{count}.png`` whose pixels hold their frame number."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for number in range(1, count + 1):
        Image.fromarray(np.full(size, number, np.uint8)).save(folder / f"frame{number}.png")
    return folder


def truncated(source: Path, path: Path, keep=0.5) -> Path:
    """The first ``keep`` of ``source``'s bytes."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def png_bomb(path: Path, side=40_000) -> Path:
    """A 1 x 1 PNG whose header claims ``side`` x ``side`` pixels (a decompression bomb)."""
    from PIL import Image

    Image.new("L", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    data[16:24] = side.to_bytes(4, "big") * 2  # IHDR width, height
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    path.write_bytes(bytes(data))
    return path
