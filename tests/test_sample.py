import numpy as np

from napari_segdl._sample_data import SAMPLE_COUNT, nuclei, nuclei_arrays


def test_sample_layers():
    (image, image_meta, _), (masks, _, _), (scribbles, _, _), (instances, _, _) = nuclei()
    assert image.shape == masks.shape == scribbles.shape == instances.shape and image.ndim == 2
    np.testing.assert_array_equal(instances > 0, masks > 0)
    assert set(np.unique(masks)) == {0, 1}
    assert set(np.unique(scribbles)) == {0, 1, 2}
    assert 0.005 < np.mean(scribbles > 0) <= 0.03
    # scribbles agree with the masks: 1 = background, 2 = nucleus
    assert np.all(masks[scribbles == 2] == 1) and np.all(masks[scribbles == 1] == 0)
    assert "CC0" in image_meta["metadata"]["source"]


def test_all_samples_have_instances():
    for index in range(SAMPLE_COUNT):
        sample = nuclei_arrays(index)
        assert sample["instances"].max() >= 20
        assert sample["image"].dtype == np.uint8


def test_the_tissue_samples_are_colour_images_with_their_nuclei(make_napari_viewer):
    from napari_segdl._sample_data import TISSUE_COUNT, tissue_arrays

    for index in range(TISSUE_COUNT):
        sample = tissue_arrays(index)
        assert sample["image"].shape == (*sample["instances"].shape, 3)
        assert sample["image"].dtype == np.uint8 and sample["instances"].max() >= 20
    viewer = make_napari_viewer()
    viewer.open_sample("napari-segdl", "tissue")
    assert viewer.layers["tissue"].rgb and viewer.layers["tissue nuclei"].data.max() >= 20


def test_the_section_sample_is_half_corrected_with_its_checked_region(make_napari_viewer):
    from napari_segdl._sample_data import SECTION_CORRECTED, section_arrays

    sample = section_arrays()
    image, corrections, checked = sample["image"], sample["corrections"], sample["checked"]
    assert image.ndim == 2 and image.dtype == np.uint8 and image.shape == corrections.shape
    assert not corrections[:, SECTION_CORRECTED:].any() and corrections.max() >= 20
    np.testing.assert_array_equal(corrections[checked], sample["instances"][checked])
    viewer = make_napari_viewer()
    viewer.open_sample("napari-segdl", "section")
    assert "CC0" in viewer.layers["section"].metadata["source"]
    region = viewer.layers["checked"].to_masks(image.shape)[0]
    np.testing.assert_array_equal(region, checked)  # the rectangle is the corrected half
    assert not viewer.layers["section nuclei"].visible
