"""Camera-capture reader: a 24-megapixel JPEG, and a 1-minute 1080p video, against napari's own.

Measures, each in a fresh subprocess (so imports and memory do not carry over):

* open time of a 6000 x 4000 JPEG: napari-segdl's reader vs napari's built-in reader
  (``napari_builtins``, imageio), median of ``--repeats``;
* first-frame latency (open + decode frame 0) and peak memory (max RSS) for a 60 s,
  1920 x 1080, 30 fps H.264 video; napari's built-in reader decodes every frame before it
  returns, so it runs under a memory cap (``--builtin-cap-gib``) and a time limit.

    python bench/reader.py [--workdir DIR] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import machine, today

CHILD = """
import json, resource, sys, time
def peak_mib():  # VmHWM starts afresh at exec, unlike ru_maxrss, which the parent's peak leaks into
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
which, path, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
if cap:
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
import numpy as np
if which == "segdl":
    from napari_segdl._reader import get_reader
else:
    from napari_builtins.io._read import napari_get_reader as get_reader
before = peak_mib()
start = time.perf_counter()
try:
    data = get_reader(path)(path)[0][0]
    first = np.asarray(data[0]) if data.ndim == 4 else np.asarray(data)
    result = {"seconds": time.perf_counter() - start, "shape": list(data.shape)}
except MemoryError:
    result = {"seconds": time.perf_counter() - start, "error": "MemoryError"}
result["peak_rss_mib"] = peak_mib()
result["peak_rss_after_imports_mib"] = before
print(json.dumps(result))
"""


def measure(which: str, path: Path, cap_gib: float = 0, timeout: float = 900) -> dict:
    cap = int(cap_gib * 1024**3)
    command = [sys.executable, "-c", CHILD, which, str(path), str(cap)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def make_jpeg(path: Path) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    y, x = np.mgrid[:4000, :6000]
    base = (x // 24 + y // 32) % 256  # texture so the JPEG is camera-sized, not trivial
    rgb = np.stack([base, (base * 3) % 256, 255 - base], -1) + rng.integers(0, 16, (4000, 6000, 3))
    Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).save(path, quality=92)
    return path


def make_video(path: Path, seconds=60, rate=30) -> Path:
    import av

    y, x = np.mgrid[:1080, :1920]
    base = np.stack([(x // 8) % 256, (y // 8) % 256, ((x + y) // 16) % 256], -1).astype(np.int16)
    # sensor noise, so the file has a phone-like bit rate rather than a few kB per frame
    noise = np.random.default_rng(0).integers(-12, 12, (16, 1080, 1920, 3), dtype=np.int16)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate, options={"preset": "ultrafast"})
        stream.height, stream.width, stream.pix_fmt = 1080, 1920, "yuv420p"
        for index in range(seconds * rate):
            pixels = (np.roll(base, 8 * index, axis=1) + noise[index % 16]).clip(0, 255)
            frame = av.VideoFrame.from_ndarray(pixels.astype(np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--builtin-cap-gib", type=float, default=12.0)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="segdl-reader-"))
    workdir.mkdir(parents=True, exist_ok=True)

    jpeg = workdir / "camera-24mp.jpg"
    if not jpeg.exists():
        make_jpeg(jpeg)
    times = {"segdl": [], "builtin": []}
    for _ in range(args.repeats):  # interleaved, so both see the same machine load
        for which in times:
            times[which].append(measure(which, jpeg)["seconds"])
    jpeg_median = {which: statistics.median(values) for which, values in times.items()}

    clip = workdir / "video-60s-1080p.mp4"
    if not clip.exists():
        started = time.perf_counter()
        make_video(clip)
        print(
            f"wrote {clip} ({clip.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.0f} s"
        )
    first = [measure("segdl", clip) for _ in range(args.repeats)]
    builtin = measure("builtin", clip, cap_gib=args.builtin_cap_gib)

    report = {
        "date": today(),
        "machine": machine(),
        "jpeg_24mp_seconds": {
            **jpeg_median,
            "ratio_builtin_over_segdl": jpeg_median["builtin"] / jpeg_median["segdl"],
        },
        "jpeg_runs": times,
        "video_first_frame_seconds": statistics.median(r["seconds"] for r in first),
        "video_peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in first),
        "video_peak_rss_after_imports_mib": statistics.median(
            r["peak_rss_after_imports_mib"] for r in first
        ),
        "video_shape": first[0]["shape"],
        "video_file_mb": clip.stat().st_size / 1e6,
        "jpeg_file_mb": jpeg.stat().st_size / 1e6,
        "video_builtin": builtin,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
