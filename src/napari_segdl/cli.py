"""The ``napari-segdl`` command: train, predict and a demo on the bundled sample."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .core.config import DISTRIBUTE, LOSSES, MIXED_PRECISION, PRESETS
from .core.errors import SegDLError
from .core.labels import LABEL_MODES
from .core.models import ARCHITECTURES


class _Parser(argparse.ArgumentParser):
    """argparse with errors as one line on stderr (and exit code 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _add_train(commands) -> None:
    cmd = commands.add_parser("train", help="train a model on image/label files or directories")
    cmd.add_argument("images", type=Path, help="an image file or a directory of images")
    cmd.add_argument("labels", type=Path, help="a label file or a directory, paired by file stem")
    cmd.add_argument("--out", type=Path, required=True, help="model bundle to write (.keras)")
    cmd.add_argument("--arch", default="unet", choices=ARCHITECTURES)
    cmd.add_argument("--mode", default="dense", choices=LABEL_MODES)
    cmd.add_argument("--epochs", type=_positive_int, default=50)
    cmd.add_argument("--patch", type=int, default=256, help="patch side, a multiple of 2**depth")
    cmd.add_argument("--batch", type=_positive_int, default=8)
    cmd.add_argument("--filters", type=_positive_int, default=32)
    cmd.add_argument("--depth", type=int, default=4, choices=range(2, 6), metavar="{2..5}")
    cmd.add_argument("--lr", type=float, default=1e-3)
    cmd.add_argument("--val-fraction", type=float, default=0.1)
    cmd.add_argument("--max-time", type=float, default=None, metavar="SECONDS")
    cmd.add_argument("--seed", type=int, default=0)
    cmd.add_argument("--patience", type=_positive_int, default=10)
    cmd.add_argument("--steps-per-epoch", type=_positive_int, default=None)
    cmd.add_argument("--class-weights", default="none", choices=["none", "auto"])
    cmd.add_argument("--loss", default="crossentropy", choices=LOSSES)
    cmd.add_argument(
        "--no-augment",
        dest="augment",
        action="store_false",
        help="no random flips and 90° rotations of the patches",
    )
    cmd.add_argument(
        "--augment-intensity",
        action="store_true",
        help="random contrast, brightness, gamma and noise of the image patches",
    )
    cmd.add_argument(
        "--augment-deform",
        action="store_true",
        help="small random affine and elastic deformations (image and labels alike)",
    )
    cmd.add_argument(
        "--channel-axis",
        type=int,
        default=None,
        metavar="AXIS",
        help="the images' channel axis when it is not the last (e.g. 0 for C, Y, X)",
    )
    cmd.add_argument("--mixed-precision", default="auto", choices=MIXED_PRECISION)
    cmd.add_argument(
        "--distribute",
        default="auto",
        choices=DISTRIBUTE,
        help="several devices train together: auto = all GPUs when there are two or more",
    )
    cmd.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="set sensible hyper-parameters at once; flags given beside it win",
    )
    cmd.add_argument(
        "--checkpoint-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="write the best model so far here after every better epoch (crash-safe)",
    )
    cmd.add_argument(
        "--from-model",
        type=Path,
        default=None,
        metavar="MODEL",
        help="continue training this .keras model (its network, mode and classes are kept)",
    )
    cmd.add_argument(
        "--recipe",
        type=Path,
        default=None,
        help="the preprocessing recipe (JSON) IMAGES went through; predict applies it to raw images",
    )


def _add_predict(commands) -> None:
    cmd = commands.add_parser("predict", help="write label images predicted by a model")
    cmd.add_argument("model", type=Path, help="a model bundle (.keras) saved by napari-segdl")
    cmd.add_argument(
        "inputs", type=Path, nargs="+", metavar="INPUT", help="image files or directories"
    )
    cmd.add_argument(
        "--out", type=Path, required=True, help="directory for <stem>.tif label images"
    )
    cmd.add_argument(
        "--tile",
        type=_positive_int,
        default=None,
        help="largest tile side in pixels (default: from the free memory)",
    )
    cmd.add_argument(
        "--probabilities",
        action="store_true",
        help="also write <stem>_probabilities (Y, X, K)",
    )
    cmd.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="models of two classes: the second class where its probability >= this",
    )
    cmd.add_argument(
        "--tta", action="store_true", help="average the 8 flips and rotations (slower, smoother)"
    )
    cmd.add_argument(
        "--format",
        choices=["tif", "zarr"],
        default="tif",
        help="output files: TIFF, or zarr stores written chunk by chunk",
    )
    cmd.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on a dask.distributed cluster, e.g. tcp://host:8786",
    )


def _add_preprocess(commands) -> None:
    cmd = commands.add_parser("preprocess", help="apply a preprocessing recipe to image files")
    cmd.add_argument("recipe", type=Path, help="a recipe JSON file (saved by the Preprocess dock)")
    cmd.add_argument(
        "inputs", type=Path, nargs="+", metavar="INPUT", help="image files or directories"
    )
    cmd.add_argument("--out", type=Path, required=True, help="directory for <stem>.tif images")


def _add_evaluate(commands) -> None:
    cmd = commands.add_parser("evaluate", help="score predicted label images against ground truth")
    cmd.add_argument("predictions", type=Path, help="a label image or a directory of them")
    cmd.add_argument("truth", type=Path, help="ground truth, paired with PREDICTIONS by file stem")
    cmd.add_argument(
        "--instance", action="store_true", help="instance labels: AP and F1 at IoU 0.5:0.95"
    )
    cmd.add_argument(
        "--ignore", type=int, default=None, metavar="VALUE", help="a truth value to leave out"
    )
    cmd.add_argument("--json", action="store_true", help="print one JSON object")


def _add_runs(commands) -> None:
    cmd = commands.add_parser("runs", help="list the recorded training runs, best first")
    cmd.add_argument("--json", action="store_true", help="print the runs as a JSON list")


def _add_demo(commands) -> None:
    cmd = commands.add_parser("demo", help="train on the bundled nuclei sample and score it")
    cmd.add_argument("--out", type=Path, default=Path("segdl-demo"), help="output directory")
    cmd.add_argument("--epochs", type=_positive_int, default=40)
    cmd.add_argument("--max-time", type=float, default=180.0, metavar="SECONDS")
    cmd.add_argument(
        "--gui", action="store_true", help="open napari with the sample and the docks"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="napari-segdl",
        description="Train U-Net segmentation models on painted labels and predict label images.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_train(commands)
    _add_predict(commands)
    _add_preprocess(commands)
    _add_evaluate(commands)
    _add_runs(commands)
    _add_demo(commands)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line; a train ``--preset`` gives defaults that explicit flags beat."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "preset", None):
        commands = parser._subparsers._group_actions[0].choices
        commands["train"].set_defaults(**PRESETS[args.preset])
        args = parser.parse_args(argv)
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``napari-segdl`` command; returns the exit code."""
    args = parse_args(argv)
    from . import _commands

    try:
        return getattr(_commands, args.command)(args)
    except SegDLError as error:
        print(f"napari-segdl: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("napari-segdl: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
