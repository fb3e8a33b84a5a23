"""The ``napari-segdl`` command's arguments. The train flags are generated from the training
schema (:mod:`napari_segdl.core.train.config`), so their defaults, ranges and help are the
API's and the Train dock's."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import __version__
from ..core.backend import BACKEND_ENV, BACKENDS, backend_line
from ..core.infer.options import parameters as predict_parameters
from ..core.schema import Spec, default, spec
from ..core.train.config import parameters as train_parameters
from ..core.train.presets import PRESETS
from .export import add_export


class _Parser(argparse.ArgumentParser):
    """argparse with errors as one line on stderr (and exit code 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _spacing(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected three numbers Z,Y,X such as 2.5,0.8,0.8; received {text!r}"
        ) from None


def _help(about: Spec, value) -> str:
    shown = about.none_text if value is None else value
    return f"{about.help} (default: {shown})".replace("%", "%%")


def _add_schema_flags(cmd, items) -> None:
    """One flag per schema field (training parameters, prediction options); a flag not given is
    left out, so the library's default (or the preset's) applies."""
    for item in items:
        about = spec(item)
        if not about.cli:
            continue
        flag, value = "--" + item.name.replace("_", "-"), default(item)
        common = {"dest": item.name, "default": argparse.SUPPRESS}
        if about.kind is bool:
            flag = f"--no-{flag[2:]}" if value else flag
            action = "store_false" if value else "store_true"
            cmd.add_argument(flag, action=action, help=about.help, **common)
            continue
        kind = {int: int, float: float}.get(about.kind, str)
        choices = list(about.choices) or None
        metavar = about.metavar
        cmd.add_argument(
            flag, type=kind, choices=choices, metavar=metavar, help=_help(about, value), **common
        )


def _add_train(commands) -> None:
    cmd = commands.add_parser("train", help="train a model on image/label files or directories")
    cmd.add_argument("images", type=Path, help="an image file or a directory of images")
    cmd.add_argument("labels", type=Path, help="a label file or a directory, paired by file stem")
    cmd.add_argument("--out", type=Path, required=True, help="model bundle to write (.keras)")
    _add_schema_flags(cmd, train_parameters())
    cmd.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="set sensible hyper-parameters at once; flags given beside it win",
    )
    cmd.add_argument(
        "--channel-axis",
        type=int,
        default=None,
        metavar="AXIS",
        help="the images' channel axis when it is not the last (e.g. 0 for C, Y, X)",
    )
    cmd.add_argument(
        "--spacing",
        type=_spacing,
        default=None,
        metavar="Z,Y,X",
        help="voxel spacing of volumes for --dims 3 (e.g. 2.5,0.8,0.8): coarse z pools in-plane "
        "first; a NIfTI volume's own spacing by default",
    )
    cmd.add_argument(
        "--colour-labels",
        action="store_true",
        help="convert colour label images: black is 0, each other colour one value 1..K",
    )
    cmd.add_argument(
        "--from-model",
        type=Path,
        default=None,
        metavar="MODEL",
        help="continue training this .keras model or bundled model (its network, mode and "
        "classes are kept) with the fine-tune preset unless given (--lr 2e-4, --max-time 60): "
        "an instance model is adapted to the corrections first, a bundled model's own "
        "training patches are mixed in (--no-replay: not), and the model is scored first on "
        "a quarter of the corrected blocks it does not train on; it comes back unchanged "
        "unless an epoch beats it there",
    )
    cmd.add_argument(
        "--adapt-only",
        action="store_true",
        help="with --from-model: fit an instance model's post-processing levels and scale to "
        "the corrected labels, without training (seconds), and save it to --out",
    )
    cmd.add_argument(
        "--recipe",
        type=Path,
        default=None,
        help="the preprocessing recipe (JSON) IMAGES went through; predict applies it to raw images",
    )


def _add_predict(commands) -> None:
    cmd = commands.add_parser("predict", help="write label images predicted by a model")
    cmd.add_argument(
        "model",
        type=Path,
        help="a model bundle (.keras) saved by napari-segdl, or a bundled model's name",
    )
    cmd.add_argument(
        "inputs", type=Path, nargs="+", metavar="INPUT", help="image files or directories"
    )
    cmd.add_argument(
        "--out", type=Path, required=True, help="directory for <stem>.tif label images"
    )
    _add_schema_flags(cmd, predict_parameters())
    cmd.add_argument(
        "--format",
        choices=["tif", "zarr"],
        default="tif",
        help="output files: TIFF, or zarr stores written chunk by chunk",
    )


def _add_others(commands) -> None:
    cmd = commands.add_parser("preprocess", help="apply a preprocessing recipe to image files")
    cmd.add_argument("recipe", type=Path, help="a recipe JSON file (saved by the Preprocess dock)")
    cmd.add_argument(
        "inputs", type=Path, nargs="+", metavar="INPUT", help="image files or directories"
    )
    cmd.add_argument("--out", type=Path, required=True, help="directory for <stem>.tif images")

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

    add_export(commands)
    commands.add_parser("models", help="list the bundled models (names for predict, --from-model)")

    cmd = commands.add_parser("runs", help="list the recorded training runs, best first")
    cmd.add_argument("--json", action="store_true", help="print the runs as a JSON list")

    cmd = commands.add_parser(
        "demo",
        help="one correction round of the bundled nuclei model on a tissue section it is weak on",
    )
    cmd.add_argument("--out", type=Path, default=Path("segdl-demo"), help="output directory")
    cmd.add_argument(
        "--from-scratch",
        action="store_true",
        help="instead, train a small U-Net on three sample images and score the fourth",
    )
    cmd.add_argument("--epochs", type=_positive_int, default=40, help="with --from-scratch")
    cmd.add_argument(
        "--max-time",
        type=float,
        default=None,
        metavar="SECONDS",
        help="training time: of the correction round (default 60), or from scratch (180)",
    )
    cmd.add_argument(
        "--gui", action="store_true", help="open napari with the sample and the docks"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="napari-segdl",
        description="Train U-Net segmentation models on painted labels and predict label images.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}; {backend_line()}"
    )
    parser.add_argument(
        "--backend",
        choices=list(BACKENDS),
        help=f"Keras' backend for this command (default: ${BACKEND_ENV}, else $KERAS_BACKEND, "
        "else tensorflow); models trained on one load on the others",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="show TensorFlow's own start-up and log lines"
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_train(commands)
    _add_predict(commands)
    _add_others(commands)
    return parser


def training_params(args: argparse.Namespace) -> dict:
    """The training parameters given on the command line (the others keep their defaults)."""
    return {
        item.name: getattr(args, item.name) for item in train_parameters() if item.name in args
    }


def prediction_options(args: argparse.Namespace) -> dict:
    """The prediction options given on the command line (the others keep their defaults)."""
    return {
        item.name: getattr(args, item.name) for item in predict_parameters() if item.name in args
    }
