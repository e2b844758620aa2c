import numpy as np
import pytest
import torch

from genvc.bitstream.sections import Section
from genvc.errors import FormatError, ModelError
from genvc.methods import ClipContext, get_method
from genvc.methods.base import MethodOptions, method_name_for_id
from genvc.models import EntropyConfig, build_model


def _clip(num_frames=11, height=24, width=40):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (num_frames, height, width, 3), dtype=np.uint8)
    ctx = ClipContext(first=frames[0] // 2, last=frames[-1] // 2, num_frames=num_frames, fps=25.0)  # "decoded"
    return frames, ctx


def test_flowib_roundtrip_pads_crops_and_restores_keyframes(tiny_model):
    method = get_method("flowib", model=tiny_model)
    assert method.method_id == 2 and method_name_for_id(2) == "flowib"
    assert method.model_id == "genvc-small" and method.weights_hash() == tiny_model.weights_hash()
    frames, ctx = _clip()  # 11 frames (not 4k+1), 24 x 40 (not multiples of 16)
    sections = method.encode(frames, ctx, budget_bytes=None)
    assert set(sections) == {Section.H, Section.CONFIG} and len(sections[Section.H]) > 0
    out = method.decode(sections, ctx)
    assert out.shape == frames.shape and out.dtype == np.uint8
    assert np.array_equal(out[0], ctx.first) and np.array_equal(out[-1], ctx.last)
    assert np.array_equal(method.decode(sections, ctx), out)  # deterministic decoder


def test_flowib_bf16_mode_and_malformed_sections(make_config, tmp_path):
    torch.manual_seed(0)
    build_model(make_config(entropy=EntropyConfig(coding="bf16"))).save_pretrained(tmp_path / "m")
    method = get_method("flowib", model=tmp_path / "m", steps=2)
    frames, ctx = _clip(num_frames=5, height=16, width=16)
    sections = method.encode(frames, ctx, None)
    assert len(sections[Section.H]) == 2 * 16  # 16 bf16 channels x h of 1 x 1 x 1
    assert method.decode(sections, ctx).shape == frames.shape
    with pytest.raises(FormatError):
        method.decode({Section.H: sections[Section.H]}, ctx)
    with pytest.raises(FormatError):
        method.decode({**sections, Section.H: sections[Section.H][:-2]}, ctx)
    other = ClipContext(first=np.zeros((32, 32, 3), np.uint8), last=np.zeros((32, 32, 3), np.uint8), num_frames=5,
                        fps=25.0)
    with pytest.raises(FormatError):
        method.decode(sections, other)  # shapes in the config do not fit this clip


def test_method_needs_a_model_folder(tmp_path):
    with pytest.raises(ModelError):
        get_method("flowib", model=tmp_path / "missing")


@pytest.mark.parametrize("name,has_h", [("multic", False), ("hybrid", True)])
def test_multic_and_hybrid_use_the_conditions_api(make_config, name, has_h):
    torch.manual_seed(0)
    model = build_model(make_config(modalities=("flow",))).eval()
    method = get_method(name, model=model, steps=2)
    frames, ctx = _clip(num_frames=9, height=64, width=80)
    ctx.options = MethodOptions(level=3)  # flow on a 64-pixel grid: one arrow per frame pair at this size
    sections = method.encode(frames, ctx, None)
    assert (Section.H in sections) == has_h and Section.FLOW in sections
    assert Section.SEGMENTATION not in sections  # only the model's modalities are sent
    out = method.decode(sections, ctx)
    assert out.shape == frames.shape and np.array_equal(out[-1], ctx.last)
    with pytest.raises(ModelError):
        get_method(name, model=build_model(make_config()))  # a model without modalities cannot do Multi-C


def test_stream_from_another_model_is_refused(tmp_path, make_config):
    from genvc.codec import EncodeConfig, decode, encode
    from genvc.io import Video

    torch.manual_seed(0)
    build_model(make_config()).save_pretrained(tmp_path / "a")
    torch.manual_seed(1)
    build_model(make_config()).save_pretrained(tmp_path / "b")
    frames, _ = _clip(num_frames=5, height=16, width=16)
    data = encode(Video(frames, 25), EncodeConfig(method="flowib", model=str(tmp_path / "a"), shot_detection=False))
    assert decode(data, model=str(tmp_path / "a")).num_frames == 5
    with pytest.raises(ModelError, match="weights"):
        decode(data, model=str(tmp_path / "b"))
