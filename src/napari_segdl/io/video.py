"""Video (MP4, AVI, MOV, MKV, WebM through PyAV/FFmpeg) as a lazy (T, Y, X, 3) dask array.

Opening demuxes the packets once (no decoding) to index every frame's timestamp, so the frame
count is exact for every container and variable frame rates. A frame is decoded when napari (or
dask) asks for it: reading forward continues the decoder; a jump seeks to the previous keyframe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..core.errors import SegDLError
from .base import Capture, check_frame_size, unreadable

#: Decoded frames kept for re-draws (napari asks for the frame on screen more than once).
_CACHED_FRAMES = 8
#: A jump forward of at most this many frames decodes on instead of seeking.
_DECODE_AHEAD = 48
#: Container tags kept in the layer metadata (phones write the QuickTime ones).
_TAGS = {
    "creation_time": "capture_time",
    "com.apple.quicktime.make": "camera_make",
    "com.apple.quicktime.model": "camera_model",
    "location": "gps_location",
    "com.apple.quicktime.location.iso6709": "gps_location",
}


class VideoFile:
    """Random access to the frames of a video file's first video stream (thread-safe)."""

    def __init__(self, path: Path):
        import av

        self.path = path
        try:
            self._container = av.open(str(path))
            self._stream = self._container.streams.video[0]
        except (av.FFmpegError, IndexError, OSError, UnicodeDecodeError) as error:
            raise unreadable(path, error) from error
        stream = self._stream
        self.timestamps = sorted(p.pts for p in self._container.demux(stream) if p.pts is not None)
        if not self.timestamps:
            raise SegDLError(f"'{path}' has no video frames. Is it an audio-only file?")
        check_frame_size(path, stream.height, stream.width)
        deep = any(c.bits > 8 for c in stream.codec_context.format.components)
        self.format = "rgb48le" if deep else "rgb24"
        self.shape = (len(self.timestamps), stream.height, stream.width, 3)
        self.dtype = np.dtype(np.uint16 if deep else np.uint8)
        rate = stream.average_rate or stream.guessed_rate
        self.frame_rate = float(rate) if rate else None
        self.codec = stream.codec_context.name
        self.tags = {key.lower(): str(v) for key, v in self._container.metadata.items()}
        self._lock = threading.Lock()
        self._frames = None
        self._position = -1
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return self.shape[0]

    def frame(self, index: int) -> np.ndarray:
        """Decode frame ``index`` (0-based) as (Y, X, 3) RGB."""
        with self._lock:
            if index in self._cache:
                return self._cache[index]
            pixels = self._decode(index)
            self._cache[index] = pixels
            if len(self._cache) > _CACHED_FRAMES:
                self._cache.popitem(last=False)
            return pixels

    def _decode(self, index: int) -> np.ndarray:
        import av

        target = self.timestamps[index]
        try:
            if self._frames is None or not 0 < index - self._position <= _DECODE_AHEAD:
                self._container.seek(target, stream=self._stream, backward=True)
                self._frames = self._container.decode(self._stream)
            for frame in self._frames:
                if frame.pts is not None and frame.pts >= target:
                    self._position = index
                    return frame.to_ndarray(format=self.format)
        except av.FFmpegError as error:
            self._frames = None
            raise unreadable(self.path, error) from error
        self._frames = None
        raise SegDLError(
            f"'{self.path}' ends before frame {index} of {len(self)}: the file is truncated. "
            "Copy it again from the camera."
        )


def read_video(path: Path) -> Capture:
    """A video as a lazy dask array of shape (T, Y, X, 3); nothing is decoded yet."""
    import dask.array as da
    from dask.base import tokenize

    video = VideoFile(path)

    def load(block_info=None):
        start, stop = block_info[None]["array-location"][0]
        return np.stack([video.frame(i) for i in range(start, stop)])

    frames, height, width, _ = video.shape
    chunks = ((1,) * frames, (height,), (width,), (3,))
    token = tokenize(str(path.resolve()), path.stat().st_mtime_ns)
    data = da.map_blocks(load, chunks=chunks, dtype=video.dtype, name=f"video-{token}")
    metadata = {
        "source": str(path),
        "format": f"video ({video.codec})",
        "frame_rate": video.frame_rate,
        "frames": frames,
        **{key: video.tags[tag] for tag, key in _TAGS.items() if tag in video.tags},
    }
    return Capture(data, path.stem, True, metadata, axis_labels=("t", "y", "x"))
