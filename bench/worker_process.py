"""Training in the Train dock's worker process against ``train()`` in one process.

    xvfb-run -a python bench/worker_process.py [--rounds 3] [--steps 40] [--starts 5]

1. Throughput: the same data (the four nuclei samples as image/labels layers) and network
   (16-filter depth-4 U-Net, patches 256, batch 8, the dock's other defaults: validation after
   every epoch, no checkpoints) trained through the dock of a real viewer, and by ``train()`` in
   a fresh Python process; rounds interleaved; patches/s over the steps after the first 5
   (compilation and start-up left out), median of the rounds; and the CPU the viewer's process
   used meanwhile (this script's polling loop included), per second.
2. Seconds from pressing Train to the first step, the worker process started anew each time
   (Free memory in between): process start, TensorFlow's import, data, network; median of
   ``starts``.
3. Resident memory of the viewer's process: idle, peak during the dock's training and after it;
   then the same training run in the viewer's own process (as the docks did before the worker
   process): during and after.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time

import psutil

from _common import load, machine, today

NETWORK = {"filters": 16, "depth": 4, "patch": 256, "batch": 8, "mode": "dense"}


def data():
    from napari_segdl._sample_data import nuclei_arrays

    samples = [nuclei_arrays(i) for i in range(4)]
    return [s["image"] for s in samples], [s["masks"] for s in samples]


def rate(times: list[float], steps_skipped: int = 5) -> float:
    """Patches per second over the steps after the first ``steps_skipped``."""
    kept = times[steps_skipped:]
    return (len(kept) - 1) * NETWORK["batch"] / (kept[-1] - kept[0])


def in_process(steps: int) -> float:
    """``train()`` here (run in a fresh process by the parent)."""
    from napari_segdl import train

    images, labels = data()
    times: list[float] = []

    def on_event(event):
        if event.kind == "step":
            times.append(time.monotonic())

    train(
        images,
        labels,
        epochs=1000,
        callback=on_event,
        stop=lambda: len(times) >= steps,
        checkpoint_dir=None,
        **NETWORK,
    )
    return rate(times)


class DockRun:
    """A viewer with the Train dock set to the benchmark's data and network."""

    def __init__(self):
        import napari

        self.viewer = napari.Viewer(show=False)
        images, labels = data()
        layers = [
            (
                self.viewer.add_image(image, name=f"nuclei {i}"),
                self.viewer.add_labels(mask, name=f"masks {i}"),
            )
            for i, (image, mask) in enumerate(zip(images, labels, strict=True))
        ]
        _, self.dock = self.viewer.window.add_plugin_dock_widget("napari-segdl", "Train")
        while len(self.dock.pairs.rows) < len(layers):
            self.dock.pairs.add_row()
        for row, (image, mask) in zip(self.dock.pairs.rows, layers, strict=True):
            row.reset_choices()
            row.image.value, row.labels_layer.value = image, mask
        d = self.dock
        d.arch.value, d.mode.value, d.epochs.value = "unet", "dense", 1000
        d.patch.value, d.batch.value, d.filters.value, d.depth.value = 256, 8, 16, 4
        d.max_time.value = 0
        d.checkpoints.line_edit.value = ""
        self.times: list[float] = []
        self.rss: list[int] = []
        #: CPU seconds the viewer's process used per second of each run (this loop included).
        self.viewer_cpu: list[float] = []
        show = d._on_event

        def on_event(event):
            if getattr(event, "kind", None) == "step":
                self.times.append(time.monotonic())
            show(event)

        d._on_event = on_event

    def train(self, steps: int) -> tuple[float, float]:
        """(seconds from Train to the first step, patches/s) of one run of ``steps`` steps."""
        from qtpy.QtWidgets import QApplication

        self.times.clear()
        stopped = False
        me = psutil.Process()
        pressed, cpu = time.monotonic(), sum(me.cpu_times()[:2])
        self.dock.train_button.native.click()
        while self.dock.running:
            QApplication.processEvents()
            self.rss.append(me.memory_info().rss)
            if len(self.times) >= steps and not stopped:
                self.dock.stop_button.native.click()
                stopped = True
            time.sleep(0.02)
        if len(self.times) < steps:
            raise RuntimeError(f"training ended early: {self.dock.status.value}")
        self.viewer_cpu.append((sum(me.cpu_times()[:2]) - cpu) / (time.monotonic() - pressed))
        return self.times[0] - pressed, rate(self.times[:steps])


def rss_mib() -> float:
    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        print(json.dumps(in_process(args.steps)))
        return

    started = load()
    run = DockRun()
    idle = rss_mib()
    dock_rates, here_rates = [], []
    for _ in range(args.rounds):
        out = subprocess.run(
            [sys.executable, __file__, "--in-process", "--steps", str(args.steps)],
            capture_output=True,
            text=True,
            check=True,
        )
        here_rates.append(json.loads(out.stdout.strip().splitlines()[-1]))
        dock_rates.append(run.train(args.steps)[1])
        print(f"train(): {here_rates[-1]:.2f} patches/s; dock: {dock_rates[-1]:.2f}", flush=True)
    viewer_cpu = statistics.median(run.viewer_cpu)
    during = max(run.rss) / 2**20
    child = psutil.Process(run.dock.process.pid).memory_info().rss / 2**20
    after = rss_mib()
    firsts = []
    for _ in range(args.starts):
        run.dock.free_button.native.click()
        firsts.append(run.train(8)[0])
        print(f"Train to first step: {firsts[-1]:.2f} s", flush=True)
    warm = [run.train(8)[0] for _ in range(3)]
    tensorflow_in_viewer = "tensorflow" in sys.modules
    run.dock.free_button.native.click()

    # the same training in the viewer's own process, as before the worker process
    samples: list[int] = []
    done = threading.Event()
    thread = threading.Thread(target=lambda: (in_process(args.steps), done.set()))
    thread.start()
    while not done.is_set():
        samples.append(psutil.Process().memory_info().rss)
        time.sleep(0.05)
    thread.join()
    here_during, here_after = max(samples) / 2**20, rss_mib()

    ratio = statistics.median(dock_rates) / statistics.median(here_rates)
    print(f"\n{today()} · {machine()} · {started} at the start, {load()} at the end")
    print(
        f"throughput: dock {statistics.median(dock_rates):.2f} patches/s, train() "
        f"{statistics.median(here_rates):.2f}; ratio {ratio:.3f} (rounds: dock "
        f"{[round(r, 2) for r in dock_rates]}, train() {[round(r, 2) for r in here_rates]})"
    )
    print(f"viewer process CPU while the dock trains: {viewer_cpu:.3f} s per second (median)")
    print(
        f"Train to first step, new process: median {statistics.median(firsts):.2f} s "
        f"({[round(f, 2) for f in firsts]}); process kept: median {statistics.median(warm):.2f} s"
    )
    print(
        f"viewer RSS: idle {idle:.0f} MiB; dock training: peak {during:.0f}, after {after:.0f} "
        f"(worker process {child:.0f} MiB); TensorFlow imported in the viewer: "
        f"{tensorflow_in_viewer}"
    )
    print(f"in-process training: peak {here_during:.0f} MiB, after {here_after:.0f} MiB")


if __name__ == "__main__":
    main()
