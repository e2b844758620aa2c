"""Extraction on real frames: carphone (head and shoulders) and bikes."""

import numpy as np
import pytest

from genvc.bitstream.sections import Section
from genvc.conditions import (LabClusterConfig, LabClusterSegmenter, Mask2FormerSegmenter, condition_bytes_report,
                              decode_conditions, encode_conditions, eq1_condition_bytes, extract_conditions,
                              mediapipe_available, render_conditions)
from genvc.conditions.pose import BLAZEPOSE_TO_SMPL21, blazepose_to_smpl21
from genvc.errors import InputError, ModelError

needs_mediapipe = pytest.mark.skipif(not mediapipe_available(), reason="mediapipe (genvc[pose]) not installed")


def test_segmenter_labels_are_temporally_stable(carphone):
    labels = LabClusterSegmenter(LabClusterConfig(people=False))(carphone[:3])
    assert labels.shape == carphone[:3].shape[:3] and labels.dtype == np.uint8
    assert len(np.unique(labels[0])) >= 5  # real regions, not one blob
    assert (labels[0] == labels[1]).mean() > 0.8  # warm start keeps label ids on a near-static shot


def test_extraction_bikes_level_2(bikes):
    cond = extract_conditions(bikes, 2, modalities=["segmentation", "flow"])
    t, h, w = bikes.shape[:3]
    assert cond.pose is None and cond.text is None
    assert all(5 <= len(c) <= 20 for c in cond.segmentation.control)  # at most N = 20 contours per frame
    assert cond.flow.vectors.shape == (t - 1, h // 96, w // 96, 2)
    assert np.abs(cond.flow.vectors).max() > 0.5  # the camera moves
    report = condition_bytes_report(cond)
    assert report["segmentation"].eq1 == eq1_condition_bytes(t, h, w, 2)["segmentation"] == 2 * t * 2 * 20 * 9
    # The paper's format costs 2 bytes a number plus small headers/counts/labels; entropy coding costs less.
    assert 0 < report["segmentation"].bf16 - 2 * report["segmentation"].numbers < 25 * t + 16
    assert report["segmentation"].entropy < report["segmentation"].bf16
    rendered = render_conditions(decode_conditions(encode_conditions(cond), t, h, w))
    assert rendered["segmentation"].shape == bikes.shape and rendered["segmentation"].mean() > 20


def test_level_0_and_bad_input(bikes):
    cond = extract_conditions(bikes, 0, text="ignored at level 0")
    assert cond.present() == [] and encode_conditions(cond) == {}
    with pytest.raises(InputError):
        extract_conditions(bikes.astype(np.float32), 2)
    with pytest.raises(InputError):
        extract_conditions(bikes, 2, modalities=["depth"])


def test_text_section(bikes):
    cond = extract_conditions(bikes[:2], 1, text="two bikes", modalities=["text"])
    sections = encode_conditions(cond, "bf16")
    assert list(sections) == [Section.TEXT]
    assert decode_conditions(sections, 2, *bikes.shape[1:3]).text == "two bikes"


def test_pose_mapping_33_to_21():
    assert BLAZEPOSE_TO_SMPL21.shape == (21, 33)
    np.testing.assert_allclose(BLAZEPOSE_TO_SMPL21.sum(1), 1.0)
    landmarks = np.zeros((33, 3), np.float32)
    landmarks[:, 0] = np.arange(33)
    landmarks[:, 2] = 1.0
    landmarks[25, 2] = 0.1  # left knee hidden
    joints, visible = blazepose_to_smpl21(landmarks)
    assert joints[0, 0] == 23 and joints[1, 0] == 24  # hips
    assert joints[11, 0] == pytest.approx(11.5)  # neck = mid-shoulders
    assert joints[5, 0] == pytest.approx((23 + 24 + 11 + 12) / 4)  # spine2 half way
    assert not visible[3] and visible.sum() == 20


@needs_mediapipe
def test_pose_on_carphone(carphone):
    cond = extract_conditions(carphone, 2, modalities=["pose"])
    people = [len(j) for j in cond.pose.joints]
    assert sum(people) >= len(carphone) - 1  # the speaker is found in (nearly) every frame
    visible = np.concatenate(cond.pose.visible)
    names_visible = visible.mean(0)
    assert names_visible[14] > 0.5 and names_visible[15] > 0.5 and names_visible[16] > 0.5  # head, shoulders
    assert names_visible[6] < 0.5  # ankles are out of the frame
    for coding in ("bf16", "entropy"):
        sections = encode_conditions(cond, coding)
        back = decode_conditions(sections, *carphone.shape[:3])
        assert [v.tolist() for v in back.pose.visible] == [v.tolist() for v in cond.pose.visible]
    assert render_conditions(cond)["pose"].any()


@needs_mediapipe
def test_pose_area_threshold_drops_small_people(carphone):
    from genvc.conditions.pose import BlazePoseEstimator, extract_pose

    landmarks = BlazePoseEstimator()(carphone[:2])
    h, w = carphone.shape[1:3]
    assert all(len(j) == 1 for j in extract_pose(landmarks, h, w, min_area=1 / 10).joints)
    assert all(len(j) == 0 for j in extract_pose(landmarks, h, w, min_area=1.0).joints)


def test_pose_absent_without_mediapipe(monkeypatch, bikes, caplog):
    import genvc.conditions.clip as clip

    monkeypatch.setattr(clip, "mediapipe_available", lambda: False)
    cond = extract_conditions(bikes[:2], 1, modalities=["pose"])
    assert cond.pose is None
    assert "mediapipe is not installed" in caplog.text


def test_mask2former_missing_weights_is_a_model_error(tmp_path):
    with pytest.raises(ModelError):
        Mask2FormerSegmenter(str(tmp_path / "no-such-model"), local_files_only=True)
