"""The embedded generator's model (genvc.models.pixelflow) and its methods (genvc.methods.generative)."""

import json

import numpy as np
import pytest
import torch

from genvc.bitstream.sections import Section
from genvc.errors import FormatError, ModelError
from genvc.methods import ClipContext, get_method
from genvc.methods.generative import PixelFlowIB
from genvc.methods.generative_config import STEPS
from genvc.methods.interp import interpolate, receiver_inputs
from genvc.models.pixelflow import PixelFlowConfig, PixelFlowModel


def tiny(**overrides) -> PixelFlowModel:
    torch.manual_seed(0)
    base = dict(width=8, blocks=1, compressor_width=8, h_channels=2, unshuffle=2,
                h_strides=((1, 2, 2), (2, 2, 2)))
    return PixelFlowModel(PixelFlowConfig(**{**base, **overrides}))


def _batch(b=2, t=5, h=16, w=16, modalities=()):
    torch.manual_seed(1)
    video = torch.rand(b, 3, t, h, w) * 2 - 1
    names = ("prediction", "anchor_first", "anchor_last", "occlusion", *modalities)
    conditions = {k: (video + 0.1 * torch.randn_like(video)).clamp(-1, 1) for k in names}
    return {"video": video, "conditions": conditions}


def _clip(num_frames=9, height=20, width=28):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (height, width + num_frames, 3), dtype=np.uint8)
    frames = np.stack([base[:, i:i + width] for i in range(num_frames)])  # a pan
    ctx = ClipContext(first=frames[0], last=frames[-1], num_frames=num_frames, fps=25.0)
    return frames, ctx


def test_latent_is_exactly_invertible():
    model = tiny(unshuffle=4)
    video = torch.rand(1, 3, 3, 8, 12)
    latent = model.to_latent(video)
    assert latent.shape == (1, 48, 3, 2, 3)
    assert torch.equal(model.from_latent(latent), video)


def test_untrained_generator_returns_the_receivers_prediction():
    """Zero-initialised velocity: without h the decoder returns P exactly (the zero-bit guess)."""
    model = tiny().eval()
    receiver = _batch(b=1)["conditions"]
    out = model.decode(receiver)
    assert torch.equal(out, receiver["prediction"])


def test_h_round_trip_matches_the_quantised_code():
    model = tiny().eval()
    batch = _batch(b=1)
    for step in (0.5, 2.0):
        data, shape = model.compress_h(batch["video"], batch["conditions"], step)
        x = model.to_latent(batch["video"])
        prediction, context = model.receiver_latents(batch["conditions"])
        h, _ = model.compressor.down(x, prediction)
        expected = model.entropy.quantize(h / step, context, step)
        decoded = model.entropy.decompress(data, shape, context, step)
        assert torch.equal(decoded, expected)
    coarse, _ = model.compress_h(batch["video"], batch["conditions"], 8.0)
    fine, _ = model.compress_h(batch["video"], batch["conditions"], 0.25)
    assert len(coarse) < len(fine)  # the step is a rate knob


@pytest.mark.parametrize("overrides", [{}, {"path": "noise"},
                                       {"objective": "kl", "prior": "standard", "modalities": ("flow", "segmentation")}])
def test_training_reduces_the_loss(overrides):
    model = tiny(h_dropout=0.0, step_range=(1.0, 1.0), **overrides)
    batch = _batch(modalities=model.config.modalities)

    def evaluate() -> float:  # the same draws of t, noise and dropout each time
        with torch.random.fork_rng():
            torch.manual_seed(3)
            return float(np.mean([model.training_losses(batch)["loss"].item() for _ in range(4)]))

    before = evaluate()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(25):
        out = model.training_losses(batch)
        assert {"loss", "flow_mse", "bpp_h", "z_mse"} <= set(out)
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
    assert evaluate() < 0.9 * before


def test_conditional_prior_follows_the_receiver():
    assert tiny().entropy.context is not None
    assert tiny(prior="standard").entropy.context is None


def test_save_load_and_wrong_kind(tmp_path):
    model = tiny()
    model.save_pretrained(tmp_path / "m")
    loaded = PixelFlowModel.from_pretrained(tmp_path / "m")
    assert loaded.weights_hash() == model.weights_hash()
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    (tmp_path / "m" / "config.json").write_text(json.dumps({**config, "kind": "refiner"}))
    with pytest.raises(ModelError, match="kind"):
        PixelFlowModel.from_pretrained(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    (tmp_path / "m" / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelError):
        PixelFlowModel.from_pretrained(tmp_path / "m")


def test_receiver_inputs_are_what_interp_predicts():
    frames, ctx = _clip()
    inputs = receiver_inputs(ctx.first, ctx.last, ctx.num_frames)
    assert set(inputs) == {"prediction", "anchor_first", "anchor_last", "occlusion"}
    assert np.array_equal(inputs["prediction"], interpolate(ctx.first, ctx.last, ctx.num_frames))
    assert all(v.shape == frames.shape and v.dtype == np.uint8 for v in inputs.values())


def test_flowib_method_round_trip_rate_knob_and_bad_sections():
    method = PixelFlowIB(model=tiny(), steps=2)
    frames, ctx = _clip()
    sections = method.encode(frames, ctx, None)
    assert set(sections) == {Section.H, Section.CONFIG}
    out = method.decode(sections, ctx)
    assert out.shape == frames.shape and np.array_equal(out[0], ctx.first) and np.array_equal(out[-1], ctx.last)
    assert np.array_equal(method.decode(sections, ctx), out)  # deterministic
    smallest = method.encode(frames, ctx, 1)  # nothing fits: the coarsest step
    assert smallest[Section.CONFIG][3] == len(STEPS) - 1
    assert len(smallest[Section.H]) <= len(sections[Section.H])
    with pytest.raises(FormatError):
        method.decode({Section.CONFIG: sections[Section.CONFIG]}, ctx)  # h announced, missing
    with pytest.raises(FormatError):
        method.decode({**sections, Section.CONFIG: b"\x09\x01\x02\x00"}, ctx)  # unknown version
    with pytest.raises(FormatError):
        method.decode({**sections, Section.H: sections[Section.H][:-1]}, ctx)  # not whole words


def test_multic_on_a_model_with_modalities_and_refused_without():
    method = get_method("multic", model=tiny(modalities=("flow",)), steps=1)
    frames, ctx = _clip(num_frames=5, height=64, width=80)
    ctx.options = {"level": 3}
    sections = method.encode(frames, ctx, None)
    assert Section.H not in sections and Section.FLOW in sections
    assert method.decode(sections, ctx).shape == frames.shape
    with pytest.raises(ModelError, match="modalities"):
        get_method("multic", model=tiny())


def test_multic_without_side_bytes_sends_the_keyframes_alone_and_its_encoder_measures_that():
    from genvc.methods.generative import PixelMultiC

    method = get_method("multic", model=tiny(modalities=("flow",)), steps=1)
    frames, ctx = _clip(num_frames=5, height=64, width=80)
    sections = method.encode(frames, ctx, 0)
    assert set(sections) == {Section.CONFIG} and sections[Section.CONFIG][1] == 0  # no conditions, no h
    assert method.decode(sections, ctx).shape == frames.shape
    # the keyframes alone (interp), the restored keyframes' interpolation, or the conditions with the generator and
    # its flow: the encoder keeps the best
    assert set(PixelMultiC.candidates) == {(0.0, False, False), (0.0, True, False), (0.1, True, True)}


def test_embedded_model_and_bad_model_folders(tmp_path):
    method = get_method("flowib")  # no --model: the embedded generator
    assert method.model_id == "genvc-pixelflow"
    with pytest.raises(ModelError, match="--model"):
        get_method("flowib", model=tmp_path / "nowhere")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "config.json").write_text("{not json")
    with pytest.raises(ModelError):
        get_method("flowib", model=tmp_path / "junk")


def test_generator_off_without_h_is_interp_exactly():
    method = PixelFlowIB(model=tiny(), steps=2)
    frames, ctx = _clip()
    ctx.options = {"generator": False}
    sections = method.encode(frames, ctx, 0)  # no bytes for h
    assert Section.H not in sections and sections[Section.CONFIG][2] == 0
    assert np.array_equal(method.decode(sections, ctx), interpolate(ctx.first, ctx.last, ctx.num_frames))


def test_encoder_keeps_the_measured_best_candidate(monkeypatch):
    """flowib's encoder tries (h share, generator on/off) and keeps the stream closest to the original: never
    worse than interp (its candidate without h and generator) at the same target."""
    from genvc import codec
    from genvc.codec import EncodeConfig, decode, encode
    from genvc.io import Video

    model = tiny()
    with torch.no_grad():  # a generator that hurts: the encoder must switch it off
        model.velocity.out.bias.fill_(0.5)
    frames, _ = _clip(num_frames=9, height=32, width=32)
    video = Video(frames, 25)
    tried = []
    real = codec.search._encode_best_candidate

    def spy(source, out, config, candidates):
        tried.extend(candidates)
        return real(source, out, config, candidates)

    monkeypatch.setattr(codec.search, "_encode_best_candidate", spy)
    data = encode(video, EncodeConfig(method="flowib", model=model, bpp=0.5, shot_detection=False))
    assert tried == list(PixelFlowIB.candidates)
    chosen = decode(data, model=model).frames
    reference = decode(encode(video, EncodeConfig(method="interp", bpp=0.5, shot_detection=False))).frames
    mse = lambda a: float(np.mean((a.astype(float) - frames) ** 2))  # noqa: E731
    assert mse(chosen) <= mse(reference) + 1e-9


def test_the_generator_knows_where_its_prediction_comes_from():
    """P from the sketch (at its scale) or from keyframe interpolation: a (trained) generator treats them apart."""
    from genvc.methods.receiver import from_keyframes, from_sketch

    model = tiny()
    torch.nn.init.normal_(model.velocity.out.weight, std=0.1)
    frames, ctx = _clip(height=16, width=16)
    sketch = {k: torch.from_numpy(np.asarray(v)) for k, v in from_sketch(frames, 2.0, 40).items()}
    receiver = {k: (v.permute(3, 0, 1, 2)[None].float() / 127.5 - 1 if v.ndim == 4 else v[None])
                for k, v in sketch.items()}
    as_sketch = model.decode(receiver)
    as_coarser_sketch = model.decode({**receiver, "source": torch.tensor([[1.0, 0.25]])})
    as_interpolation = model.decode({k: v for k, v in receiver.items() if k != "source"})
    assert not torch.equal(as_sketch, as_coarser_sketch) and not torch.equal(as_sketch, as_interpolation)
    inputs = from_keyframes(ctx.first, ctx.last, ctx.num_frames)
    assert inputs["source"].tolist() == [0.0, 1.0] and sketch["source"].tolist() == [1.0, 0.5]


def test_a_training_batch_can_mix_sketch_and_keyframe_clips():
    """Both receivers carry the same inputs (the sketch's QP plane included), so the data loader collates a batch
    of both kinds (`configs/pixelflow.yaml` trains on both)."""
    from torch.utils.data import default_collate

    from genvc.methods.receiver import from_keyframes, from_sketch

    frames, ctx = _clip(height=16, width=16)
    batch = default_collate([from_sketch(frames, 2.0, 40), from_keyframes(ctx.first, ctx.last, ctx.num_frames)])
    assert batch["source"].tolist() == [[1.0, 0.5], [0.0, 1.0]] and batch["prediction"].shape[0] == 2


def test_restoring_a_long_sketch_in_windows_matches_whole_windows():
    """`restore_sketch` works in temporal windows with context on both sides: memory bounded by the window."""
    from genvc.methods.generative import WINDOW, WINDOW_HALO, restore_sketch

    frames, _ = _clip(num_frames=WINDOW + 7, height=16, width=16)
    assert np.array_equal(restore_sketch(tiny(), frames, 2.0, 40), frames)  # untrained: the sketch itself
    model = tiny()
    torch.nn.init.normal_(model.velocity.out.weight, std=0.1)
    restored = restore_sketch(model, frames, 2.0, 40)
    assert not np.array_equal(restored, frames)
    first = restore_sketch(model, frames[: WINDOW + WINDOW_HALO], 2.0, 40)  # the first window with its halo
    assert np.array_equal(restored[:WINDOW], first[:WINDOW])


def test_training_unrolls_the_few_step_sampler():
    model = tiny(h_dropout=0.0)
    out = model.training_losses(_batch())
    assert out["sample_mse"].item() > 0
    assert tiny(sample_weight=0.0).training_losses(_batch())["sample_mse"].item() == 0


def test_candidates_are_judged_on_runs_spread_over_a_long_video():
    from genvc.judge import STREAM_SAMPLE, stream_sample

    runs, run = STREAM_SAMPLE
    assert stream_sample(30) == list(range(30))
    frames = stream_sample(3000)
    assert len(frames) == runs * run and frames[0] < 3000 / runs and frames[-1] >= 3000 * (runs - 1) / runs
    starts = frames[::run]
    assert all(frames[i * run:(i + 1) * run] == list(range(s, s + run)) for i, s in enumerate(starts))  # runs of
    # neighbours, for VMAF's motion feature, one in each ninth of the video
    assert sorted(s * runs // 3000 for s in starts) == list(range(runs))


def test_the_restorer_touches_sketch_clips_only_and_trains_alone():
    model = tiny(restorer_width=8, restorer_blocks=1, restorer_outer_blocks=1)
    batch = _batch()
    batch["conditions"]["source"] = torch.tensor([[1.0, 0.5], [0.0, 1.0]])  # a sketch clip, a keyframe clip
    batch["conditions"]["sketch_qp"] = torch.tensor([[40 / 63], [40 / 63]])
    video = batch["video"]
    assert torch.equal(model.restore(video, batch["conditions"]), video)  # zero-initialised: the identity
    torch.nn.init.normal_(model.restorer.tail.weight, std=0.1)
    restored = model.restore(video, batch["conditions"])
    assert not torch.equal(restored[0], video[0]) and torch.equal(restored[1], video[1])
    noisier = model.restore(video, {**batch["conditions"], "sketch_qp": torch.tensor([[50 / 63], [40 / 63]])})
    assert not torch.equal(noisier[0], restored[0])  # the QP is an input
    chosen = {id(p) for p in model.trainable_parameters("restorer")}
    assert chosen == {id(p) for p in model.restorer.parameters()}
    flow = {id(p) for p in model.trainable_parameters("flow")}  # the flow trained again: the restorer is kept
    assert flow and not flow & chosen and flow | chosen == {id(p) for p in model.parameters()}
    with pytest.raises(ModelError, match="restorer_width"):
        tiny().trainable_parameters("restorer")
    optimizer = torch.optim.Adam(model.trainable_parameters("restorer"), lr=3e-3)
    before = model.training_losses(batch, stage="restorer")["loss"].item()
    for _ in range(20):
        loss = model.training_losses(batch, stage="restorer")["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert model.training_losses(batch, stage="restorer")["loss"].item() < before


def test_the_restorer_sees_each_frame_with_its_neighbours_in_chunks():
    """Per frame with its neighbours: chunked inference equals one pass, and a neighbour changes the output."""
    from genvc.models.pixelflow.networks import RESTORER_CHUNK, SketchRestorer

    torch.manual_seed(0)
    net = SketchRestorer(8, 1, 1, frames=3)
    torch.nn.init.normal_(net.tail.weight, std=0.1)
    video = torch.rand(1, 3, RESTORER_CHUNK + 3, 14, 18) * 2 - 1  # sides not a multiple of 4: padded inside
    args = (torch.tensor([0.5]), torch.tensor([0.6]))
    net.train()
    whole = net(video, *args)
    net.eval()
    chunked = net(video, *args)
    assert chunked.shape == video.shape and torch.allclose(whole, chunked, atol=1e-6)
    assert torch.allclose(net(video, *args, frames=slice(1, 3)), chunked[:, :, 1:3], atol=1e-6)
    moved = video.clone()
    moved[:, :, 2] = -moved[:, :, 2]
    changed = (net(moved, *args) - chunked).abs().amax(dim=(0, 1, 3, 4))
    assert changed[1] > 0 and changed[3] > 0 and changed[0] == 0 and changed[4] == 0  # neighbours 1 and 3 only


def test_a_sketch_can_skip_the_flow_for_the_restorer_alone():
    model = tiny(restorer_width=8, restorer_blocks=1, sketch_flow=False)
    torch.nn.init.normal_(model.velocity.out.weight, std=0.1)  # a flow that changes its input
    receiver = _batch(b=1)["conditions"]
    sketch = {**receiver, "source": torch.tensor([[1.0, 0.5]])}
    assert torch.equal(model.decode(sketch), sketch["prediction"])  # zero restorer, no flow: P itself
    assert not torch.equal(model.decode(receiver), receiver["prediction"])  # keyframe P: the flow runs
    flowing = tiny(restorer_width=8, restorer_blocks=1)
    torch.nn.init.normal_(flowing.velocity.out.weight, std=0.1)
    assert not torch.equal(flowing.decode(sketch), sketch["prediction"])



def test_a_sketch_restored_in_windows_with_the_restorers_halo_matches_one_pass(monkeypatch):
    """Without the flow (a sketch, no h) the restorer sees one neighbour each side: windows with that halo give the
    frames one pass over the whole clip gives."""
    from genvc.methods import generative

    model = tiny(restorer_width=8, restorer_blocks=1, restorer_outer_blocks=1, sketch_flow=False)
    torch.nn.init.normal_(model.restorer.tail.weight, std=0.1)
    frames, _ = _clip(num_frames=generative.WINDOW + 7, height=16, width=16)
    windowed = generative.restore_sketch(model, frames, 2.0, 40)
    assert generative._sketch_halo(model) == 1 and not np.array_equal(windowed, frames)
    monkeypatch.setattr(generative, "WINDOW", len(frames))  # one window: the whole clip at once
    assert np.array_equal(windowed, generative.restore_sketch(model, frames, 2.0, 40))


def test_keyframe_restoration_codes_name_every_setting_once():
    from genvc.methods import keyframe_restoration as kr

    codes = [kr.code_of(scale, qp) for scale in kr.SCALES for qp in kr.QPS]
    assert sorted(codes) == list(range(1, len(codes) + 1)) and kr.NONE not in codes
    assert all(kr.setting(kr.code_of(scale, qp)) == (scale, qp) for scale in kr.SCALES for qp in kr.QPS)
    assert kr.is_valid(len(codes)) and not kr.is_valid(len(codes) + 1)


def test_the_encoder_picks_the_keyframe_restoration_that_measures_best(monkeypatch):
    """Scale first (at SEARCH_QP), then QP at that scale; as decoded where nothing beats it."""
    from genvc.methods import keyframe_restoration as kr

    rng = np.random.default_rng(0)
    original = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    decoded = np.clip(original.astype(int) + rng.integers(-40, 40, original.shape), 0, 255).astype(np.uint8)
    closeness = {kr.code_of(3.0, kr.SEARCH_QP): 0.5, kr.code_of(3.0, 32): 1.0}  # how far towards the original
    tried = []

    def fake_restore(model, frame, code):
        tried.append(code)
        w = closeness.get(code, 0.0)
        return np.round(frame * (1 - w) + original * w).astype(np.uint8)

    monkeypatch.setattr(kr, "restore", fake_restore)
    restorer = kr.KeyframeRestorer(tiny(restorer_width=8, restorer_blocks=1, restorer_outer_blocks=1))
    assert restorer.choose(original, decoded, "psnr") == kr.code_of(3.0, 32)
    assert len(tried) == len(kr.SCALES) + len(kr.QPS) - 1  # the rest of the 30 settings never run
    assert restorer.choose(original, decoded, "psnr") == kr.code_of(3.0, 32) and len(tried) == 10  # remembered
    closeness.clear()  # nothing helps: the keyframe as decoded
    assert kr.KeyframeRestorer(restorer.model).choose(original, decoded, "psnr") == kr.NONE
    assert kr.KeyframeRestorer(tiny()).choose(original, decoded, "psnr") == kr.NONE  # no restorer: nothing tried


def test_flowib_restores_its_keyframes_on_both_sides_and_refuses_what_it_cannot_decode(monkeypatch):
    from genvc.methods import keyframe_restoration as kr

    model = tiny(restorer_width=8, restorer_blocks=1, restorer_outer_blocks=1)
    torch.nn.init.normal_(model.restorer.tail.weight, std=0.1)
    method = PixelFlowIB(model=model, steps=1)
    frames, ctx = _clip(height=32, width=32)
    code = kr.code_of(2.0, 32)
    monkeypatch.setattr(method.keyframes, "choose", lambda original, decoded, tune: code)
    sections = method.encode(frames, ctx, None)
    assert tuple(sections[Section.CONFIG][4:]) == (code, code)
    from genvc.methods.generative_config import describe_config  # what `genvc info` shows

    assert describe_config(sections[Section.CONFIG])["restored"] == {"first": {"scale": 2.0, "qp": 32},
                                                                     "last": {"scale": 2.0, "qp": 32}}
    out = method.decode(sections, ctx)
    first = kr.restore(model, ctx.first, code)
    assert not np.array_equal(first, ctx.first) and np.array_equal(out[0], first)
    assert np.array_equal(out[-1], kr.restore(model, ctx.last, code))
    ctx.options = {"generator": False}  # generator off: the keyframes as decoded, no restoration sent
    off = method.encode(frames, ctx, None)
    assert tuple(off[Section.CONFIG][4:]) == (kr.NONE, kr.NONE)
    assert np.array_equal(method.decode(off, ctx)[0], ctx.first)
    bad = bytearray(sections[Section.CONFIG])
    bad[4] = len(kr.SCALES) * len(kr.QPS) + 1
    with pytest.raises(FormatError, match="keyframe restoration"):
        method.decode({**sections, Section.CONFIG: bytes(bad)}, ctx)
    with pytest.raises(FormatError, match="no restorer"):  # a model without a restorer cannot decode it
        PixelFlowIB(model=tiny(), steps=1).decode(sections, ctx)
