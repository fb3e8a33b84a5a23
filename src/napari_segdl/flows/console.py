"""What the terminal shows: a training progress bar, score tables and the run list."""

from __future__ import annotations

from tqdm import tqdm


class TrainingBar:
    """A tqdm progress bar fed with training events (a ``train(callback=...)``)."""

    def __init__(self):
        self.bar = None

    def __call__(self, event) -> None:
        if event.kind == "start":
            run = event.model.info.run
            print(f"training on {run.device}")
            chosen = (run.memory or {}).get("chosen")
            if chosen:  # a 3D network chose what was not given, for this machine's memory
                settings = ", ".join(f"{key} {value}" for key, value in chosen.items())
                print(
                    f"3D settings chosen: {settings} (about {run.memory['estimate_gib']}"
                    f" GiB; budget: {run.memory['budget']})"
                )
            self.bar = tqdm(total=event.epochs * event.steps, unit="step", desc="training")
        elif event.kind == "step":
            self.bar.update(1)
        elif event.kind == "epoch":
            val = "" if event.val_iou is None else f" val IoU {event.val_iou:.3f}"
            self.bar.set_postfix_str(f"epoch {event.epoch} loss {event.loss:.3f}{val}")
        elif event.kind == "end":
            self.bar.close()
            best = f", best val IoU {event.val_iou:.3f}" if event.val_iou is not None else ""
            print(
                f"training ended ({event.reason}) after {event.epoch} epochs, "
                f"{event.elapsed:.0f} s; best epoch {event.best_epoch}{best}"
            )


def format_scores(result: dict) -> str:
    """The figures of :func:`napari_segdl.evaluate` as a short text table."""
    lines = [f"{'class':>8} {'IoU':>7} {'Dice':>7} {'prec.':>7} {'recall':>7}"]
    for name in result["iou"]["per_class"]:
        row = [result[key]["per_class"][name] for key in ("iou", "dice", "precision", "recall")]
        lines.append(f"{name:>8} " + " ".join(_cell(v) for v in row))
    means = [result[key]["mean"] for key in ("iou", "dice", "precision", "recall")]
    lines.append(f"{'mean':>8} " + " ".join(_cell(v) for v in means))
    lines.append(f"pixel accuracy {_cell(result['pixel_accuracy']['overall'])}")
    if "ap50" in result:
        lines.append(
            f"instances: AP50 {_cell(result['ap50'])}  F1@0.5 {_cell(result['f1_50'])}  "
            f"AP50:95 {_cell(result['ap50_95'])}  matched IoU {_cell(result['mean_matched_iou'])}"
        )
    lines += [f"warning: {note}" for note in result["warnings"]]
    return "\n".join(lines)


def format_runs(ranked: list[dict], where) -> str:
    """Recorded runs, one line each, as ``napari-segdl runs`` prints them."""
    lines = [f"{len(ranked)} run(s) in {where}"]
    for run in ranked:
        iou = _cell(run.get("best_val_iou")).strip()
        lines.append(
            f"{run['id']}  {run['finished']}  {run['arch']}/{run['mode']}  val IoU {iou}  "
            f"{run.get('epochs_run')} epochs, {run.get('seconds')} s  {run.get('bundle') or '-'}"
        )
    return "\n".join(lines)


def _cell(value) -> str:
    return f"{value:7.3f}" if value is not None else f"{'-':>7}"
