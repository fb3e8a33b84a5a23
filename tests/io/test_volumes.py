"""Medical volumes: NIfTI in one orientation with spacing and header, written back in the
source's; DICOM series ordered by position; bad files refused by name."""

import gzip

import nibabel as nib
import numpy as np
import pytest
from pydicom.uid import generate_uid

from napari_segdl.core.errors import SegDLError
from napari_segdl.io.captures import capture_kind, read_capture
from napari_segdl.io.dicom import read_dicom_folder
from napari_segdl.io.files import list_images, pair_by_stem, read_image
from napari_segdl.io.nifti import read_nifti, write_nifti
from volume_files import ODD_AFFINE, dicom_series, dicom_slice, nifti

STORED = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)  # axes on disk: P, S, L


def test_nifti_opens_in_canonical_orientation_with_spacing(tmp_path):
    capture = read_capture(nifti(tmp_path / "scan.nii.gz", STORED))
    # layer (Z, Y, X) = (superior, anterior at the top, towards the right)
    assert capture.data.shape == (5, 4, 6) and capture.name == "scan"
    assert capture.scale == pytest.approx((0.7, 0.5, 3.0))
    assert capture.axis_labels == ("z", "y", "x")
    assert capture.data[0, 0, 0] == STORED[0, 0, -1]  # inferior, anterior, patient's left
    meta = capture.metadata
    assert meta["orientation_on_disk"] == "PSL" and meta["description"] == "test volume"
    assert meta["spacing"] == pytest.approx([0.7, 0.5, 3.0]) and meta["format"] == "NIfTI-1"
    assert np.allclose(meta["affine"], ODD_AFFINE)


def test_predictions_are_written_back_with_the_source_affine(tmp_path):
    source = nifti(tmp_path / "scan.nii", STORED)
    layer = read_nifti(source).data
    labels = (layer > 60).astype(np.uint8)
    out = write_nifti(labels, tmp_path / "scan_labels.nii.gz", like=source)
    written = nib.load(out)
    assert np.allclose(written.affine, ODD_AFFINE)
    assert np.array_equal(np.asanyarray(written.dataobj), (STORED > 60).astype(np.uint8))
    assert np.array_equal(read_nifti(out).data, labels)  # read back: the same layer grid


def test_writing_without_a_source_uses_the_spacing_and_refuses_other_shapes(tmp_path):
    out = write_nifti(np.ones((3, 4, 5), np.int64), tmp_path / "a.nii", spacing=(2.0, 1.0, 0.5))
    assert read_nifti(out).scale == pytest.approx((2.0, 1.0, 0.5))
    with pytest.raises(SegDLError, match=r"end in \.nii or \.nii\.gz"):
        write_nifti(np.ones((3, 4, 5)), tmp_path / "a.tif")
    source = nifti(tmp_path / "scan.nii", STORED)
    with pytest.raises(SegDLError, match="beside the volume it was predicted on"):
        write_nifti(np.ones((3, 4, 5), np.uint8), tmp_path / "b.nii", like=source)


def test_a_4d_nifti_opens_as_a_series_of_volumes(tmp_path):
    series = np.stack([STORED, STORED + 1], axis=-1)  # X, Y, Z, T on disk
    capture = read_nifti(nifti(tmp_path / "fmri.nii.gz", series))
    assert capture.data.shape == (2, 5, 4, 6) and capture.axis_labels == ("t", "z", "y", "x")
    assert capture.scale == pytest.approx((1.0, 0.7, 0.5, 3.0))
    assert np.array_equal(capture.data[1], capture.data[0] + 1)


def test_missing_spacing_shows_one_per_voxel_with_a_warning(tmp_path):
    path = nifti(tmp_path / "flat.nii", STORED, affine=np.eye(4))
    header = bytearray(path.read_bytes())
    header[80:84] = np.float32(0).tobytes()  # pixdim[1], the spacing of the first axis: 0
    header[252:256] = bytes(4)  # qform_code and sform_code 0: no orientation either
    path.write_bytes(bytes(header))
    capture = read_nifti(path)
    assert capture.scale == (1.0, 1.0, 1.0) and capture.metadata["spacing"] is None
    assert "missing or zero" in capture.metadata["warning"]


def test_a_truncated_nifti_is_refused_by_name(tmp_path):
    path = nifti(
        tmp_path / "scan.nii.gz", np.random.default_rng(0).random((20, 20, 20)).astype(np.float32)
    )
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw)[: len(gzip.compress(raw)) // 2])
    with pytest.raises(SegDLError, match=r"scan\.nii\.gz"):
        read_nifti(path)


def test_a_file_that_is_not_nifti_is_refused(tmp_path):
    path = tmp_path / "notes.nii"
    path.write_bytes(b"not a volume at all" * 30)
    with pytest.raises(SegDLError, match=r"notes\.nii' is not a NIfTI volume"):
        read_nifti(path)


def test_nifti_files_are_listed_paired_and_read(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    nifti(tmp_path / "images" / "a.nii.gz", STORED)
    nifti(tmp_path / "labels" / "a.nii.gz", (STORED > 50).astype(np.uint8))
    pairs = pair_by_stem(list_images(tmp_path / "images"), list_images(tmp_path / "labels"))
    assert [(i.name, lab.name) for i, lab in pairs] == [("a.nii.gz", "a.nii.gz")]
    assert read_image(pairs[0][1]).shape == (5, 4, 6)


def test_a_dicom_series_is_one_volume_in_slice_order(tmp_path):
    folder = dicom_series(tmp_path / "ct")
    assert capture_kind(folder) == "dicom"
    capture = read_capture(folder)
    assert capture.data.shape == (3, 4, 5) and capture.data.dtype == np.int16
    assert list(capture.data[:, 0, 0]) == [-1024, -774, -524]  # Hounsfield units, by height
    assert capture.scale == pytest.approx((2.5, 0.8, 0.6))
    assert capture.metadata["modality"] == "CT" and capture.metadata["slices"] == 3
    shown = str(capture.metadata)
    assert "Doe" not in shown and "secret-id" not in shown  # no patient identifiers


def test_a_folder_mixing_two_series_is_refused_naming_them(tmp_path):
    folder = dicom_series(tmp_path / "mixed", name="CT")
    dicom_series(folder, heights=(0.0, 1.0), name="MR")
    with pytest.raises(SegDLError, match=r"mixes 2 DICOM series: CT \(3 files\); MR \(2 files\)"):
        read_dicom_folder(folder)


def test_a_broken_dicom_file_is_refused_by_name(tmp_path):
    folder = dicom_series(tmp_path / "ct")
    (folder / "broken.dcm").write_bytes(b"garbage")
    with pytest.raises(SegDLError, match=r"broken\.dcm' is not a DICOM file"):
        read_dicom_folder(folder)
    (folder / "broken.dcm").unlink()
    dicom_slice(folder / "big.dcm", np.zeros((6, 6)), 7.5, generate_uid(), 9)
    with pytest.raises(SegDLError, match="mixes 2 DICOM series"):
        read_dicom_folder(folder)
