"""Round trips and malformed payloads on synthetic conditions (no extraction: fast)."""

import numpy as np
import pytest

from genvc.bitstream.sections import Section
from genvc.conditions import (ClipConditions, FlowConditions, PoseConditions, SegmentationConditions,
                              decode_conditions, encode_conditions, render_conditions)
from genvc.errors import FormatError

T, H, W = 5, 90, 160


def synthetic_conditions() -> ClipConditions:
    rng = np.random.default_rng(1)
    seg = SegmentationConditions(8)
    for t in range(T):
        k = 3 + t % 2
        seg.control.append(rng.uniform(-20, 170, size=(k, 9, 2)).astype(np.float32))
        seg.labels.append(rng.integers(0, 6, size=k).astype(np.uint8))
    pose = PoseConditions()
    for t in range(T):
        people = t % 3
        pose.joints.append(rng.uniform(0, 89, size=(people, 21, 2)).astype(np.float32))
        pose.visible.append(rng.random((people, 21)) > 0.3)
    flow = FlowConditions(32, rng.normal(0, 3, size=(T - 1, 2, 5, 2)).astype(np.float32))
    return ClipConditions(T, H, W, 2, seg, pose, flow, "a caption ✓")


@pytest.mark.parametrize("coding", ["bf16", "entropy"])
def test_round_trip_is_stable(coding):
    cond = synthetic_conditions()
    sections = encode_conditions(cond, coding)
    assert set(sections) == {Section.SEGMENTATION, Section.POSE, Section.FLOW, Section.TEXT}
    decoded = decode_conditions(sections, T, H, W)
    assert decoded.text == cond.text
    # Decoded values are the quantized ones: coding them again gives the same bytes and the same values.
    assert encode_conditions(decoded, coding) == sections
    again = decode_conditions(sections, T, H, W)
    for a, b in zip(decoded.segmentation.control, again.segmentation.control):
        np.testing.assert_array_equal(a, b)
    for orig, dec in zip(cond.segmentation.labels, decoded.segmentation.labels):
        np.testing.assert_array_equal(orig, dec)
    for orig, dec in zip(cond.pose.visible, decoded.pose.visible):
        np.testing.assert_array_equal(orig, dec)
    tolerance = {"bf16": 1.0, "entropy": 0.51}[coding]  # bf16 of x/W at W=160; entropy: 1-pixel step
    for orig, dec, vis in zip(cond.pose.joints, decoded.pose.joints, cond.pose.visible):
        assert np.abs(orig - dec)[vis].max(initial=0) <= tolerance
    assert np.abs(cond.flow.vectors - decoded.flow.vectors).max() <= 0.13
    rendered = render_conditions(decoded)
    assert set(rendered) == {"segmentation", "pose", "flow"}
    assert all(v.shape == (T, H, W, 3) and v.dtype == np.uint8 for v in rendered.values())
    assert rendered["segmentation"].any() and rendered["flow"][:-1].any() and not rendered["flow"][-1].any()


def test_entropy_coding_is_smaller_on_smooth_data():
    cond = synthetic_conditions()
    cond.flow.vectors[:] = cond.flow.vectors[:1]  # a constant motion field
    bf16 = encode_conditions(cond, "bf16")
    entropy = encode_conditions(cond, "entropy")
    assert len(entropy[Section.FLOW]) < len(bf16[Section.FLOW]) / 2


@pytest.mark.parametrize("coding", ["bf16", "entropy"])
def test_truncated_payloads_raise_format_error(coding):
    sections = encode_conditions(synthetic_conditions(), coding)
    for tag, data in sections.items():
        for cut in (0, 1, 3, len(data) // 2, len(data) - 1):
            broken = dict(sections)
            broken[tag] = data[:cut]
            with pytest.raises(FormatError):
                decode_conditions(broken, T, H, W)


@pytest.mark.parametrize("coding", ["bf16", "entropy"])
def test_wrong_tag_and_bad_header_fields_raise(coding):
    sections = encode_conditions(synthetic_conditions(), coding)
    with pytest.raises(FormatError):  # a pose payload filed as flow
        decode_conditions({Section.FLOW: sections[Section.POSE]}, T, H, W)
    with pytest.raises(FormatError):
        decode_conditions({99: b"\x00"}, T, H, W)
    for tag, data in sections.items():
        for position, value in ((1, 7), (2, 9), (3, 0xFF)):  # coding mode, version, first count/field
            corrupt = bytearray(data)
            corrupt[position] = value
            with pytest.raises(FormatError):
                decode_conditions({tag: bytes(corrupt)}, T, H, W)


def test_bf16_count_over_limit_raises():
    sections = encode_conditions(synthetic_conditions(), "bf16")
    pose = bytearray(sections[Section.POSE])
    pose[3] = 200  # people in frame 0: over MAX_PEOPLE
    with pytest.raises(FormatError):
        decode_conditions({Section.POSE: bytes(pose)}, T, H, W)


def test_random_bytes_raise_format_error():
    rng = np.random.default_rng(5)
    for tag in (Section.SEGMENTATION, Section.POSE, Section.FLOW, Section.TEXT):
        for size in (2, 17, 300):
            data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
            with pytest.raises(FormatError):
                decode_conditions({tag: data}, T, H, W)


def test_clip_shape_limits_checked_before_decoding():
    with pytest.raises(FormatError):
        decode_conditions({}, 10**6, H, W)
