"""The ``napari-segdl`` command: argument parsing (:mod:`.parser`), then one library call per
command (:mod:`napari_segdl.flows`)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from ..core.backend import choose_backend
from ..core.errors import SegDLError
from .parser import build_parser, prediction_options, training_params

__all__ = ["build_parser", "main", "training_params"]


def _run(args: argparse.Namespace) -> int:
    from .. import flows
    from ..core.bundle import read_metadata
    from ..core.metadata import RunRecord

    if args.command == "train" and args.adapt_only:
        path = flows.adapting.adapt_files(
            args.from_model, args.images, args.labels, args.out, colour_labels=args.colour_labels
        )
        adapted = RunRecord.of(read_metadata(path)["training"]).adapted
        print(f"saved {path}; {_adapted(adapted)}")
    elif args.command == "train":
        path = flows.files.train_files(
            args.images,
            args.labels,
            args.out,
            from_model=args.from_model,
            recipe=args.recipe,
            channel_axis=args.channel_axis,
            colour_labels=args.colour_labels,
            preset=args.preset,
            spacing=args.spacing,
            **training_params(args),
        )
        run = RunRecord.of(read_metadata(path)["training"])
        said = run.start_outcome or _adapted(run.adapted)
        print(f"saved {path}" + (f"; {said}" if said else ""))  # the last line says it
    elif args.command == "predict":
        given = prediction_options(args)
        report = flows.files.predict_files(
            args.model, args.inputs, args.out, file_format=args.format, **given
        )
        done = report.inputs - len(report.failed)
        print(f"wrote {done} label image(s) to {args.out}")
        if report.failed:
            failed = ", ".join(report.failed)
            raise SegDLError(f"{len(report.failed)} of {report.inputs} input(s) failed: {failed}")
    elif args.command == "preprocess":
        written = flows.files.preprocess_files(args.recipe, args.inputs, args.out)
        print(f"wrote {len(written)} preprocessed image(s) to {args.out}")
    elif args.command == "evaluate":
        result = flows.files.evaluate_files(
            args.predictions, args.truth, ignore=args.ignore, instance=args.instance
        )
        print(json.dumps(result, indent=1) if args.json else flows.console.format_scores(result))
    elif args.command == "export":
        report = flows.files.export_file(args)
        print(f"wrote {report.path} ({', '.join(report.formats)})")
        for warning in report.warnings:
            print(f"napari-segdl: warning: {warning}", file=sys.stderr)
    elif args.command == "models":
        from ..core.models.bundled import BUNDLED

        print("\n".join(BUNDLED.lines()) or "no bundled models in this installation")
    elif args.command == "runs":
        from ..core.train.runs import RunLog

        log = RunLog()
        ranked = log.ranked()
        print(
            json.dumps(ranked, indent=1)
            if args.json
            else flows.console.format_runs(ranked, log.path)
        )
    elif args.gui:
        flows.demo.demo_gui()
    elif args.from_scratch:
        flows.demo.demo(args.out, epochs=args.epochs, max_time=args.max_time or 180.0)
    else:
        flows.demo.correction_demo(args.out, seconds=args.max_time or 60.0)
    return 0


def _adapted(adapted: dict | None) -> str:
    """What adapting did, in words (empty when it did not run)."""
    if not adapted:
        return ""
    before = adapted["f1_50_before"]
    return (
        f"adapted to {adapted['images']} corrected image(s): F1@0.5 "
        f"{'?' if before is None else before} -> {adapted['f1_50_after']} (scale "
        f"{adapted['scale']}, seed level {adapted['seed']}, extent level {adapted['extent']})"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``napari-segdl`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.verbose:
        os.environ["NAPARI_SEGDL_VERBOSE"] = "1"
    try:
        if args.backend:
            choose_backend(args.backend)
        return _run(args)
    except SegDLError as error:
        print(f"napari-segdl: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("napari-segdl: interrupted", file=sys.stderr)
        return 130
