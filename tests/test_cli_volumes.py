"""The command on medical volumes: a 3D network from NIfTI files, predictions back as NIfTI."""

import nibabel as nib
import numpy as np
import pytest

from helpers import make_balls
from napari_segdl import load_model
from napari_segdl.cli import main
from volume_files import ODD_AFFINE, nifti

ARGS_3D = ["--dims", "3", "--filters", "4", "--depth", "2", "--patch", "32", "--patch-z", "8"]
ARGS_3D += ["--batch", "2", "--epochs", "1", "--steps-per-epoch", "3"]


@pytest.mark.slow
def test_a_3d_network_from_nifti_files_predicts_nifti_with_the_source_affine(tmp_path, capsys):
    for folder in ("images", "labels"):
        (tmp_path / folder).mkdir()
    image, labels = make_balls(shape=(12, 40, 40))
    stored = np.transpose(image, (2, 1, 0)).astype(np.float32)  # any axes order on disk
    nifti(tmp_path / "images" / "scan.nii.gz", stored)
    nifti(
        tmp_path / "labels" / "scan.nii.gz", np.transpose(labels > 0, (2, 1, 0)).astype(np.uint8)
    )
    model = tmp_path / "model3d.keras"
    args = ["train", str(tmp_path / "images"), str(tmp_path / "labels"), "--out", str(model)]
    assert main([*args, *ARGS_3D]) == 0
    trained = load_model(model)
    assert trained.info.arch_params["dims"] == 3
    assert trained.info.training["spacing"] == pytest.approx([0.7, 0.5, 3.0])  # the file's own
    assert (
        main(["predict", str(model), str(tmp_path / "images"), "--out", str(tmp_path / "out")])
        == 0
    )
    written = nib.load(tmp_path / "out" / "scan.nii.gz")
    assert written.shape == stored.shape and np.allclose(written.affine, ODD_AFFINE)
    assert "wrote 1 label image(s)" in capsys.readouterr().out


def test_bad_spacing_and_2d_images_with_dims_3_end_with_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as parsed:
        main(["train", "x", "y", "--out", "m.keras", "--spacing", "1,a,1"])
    assert parsed.value.code == 2
    assert "expected three numbers Z,Y,X" in capsys.readouterr().err
    flat = nifti(tmp_path / "flat.nii", np.zeros((20, 20), np.uint8))
    assert main(["train", str(flat), str(flat), "--out", str(tmp_path / "m.keras"), *ARGS_3D]) == 2
    assert "2D image" in capsys.readouterr().err
