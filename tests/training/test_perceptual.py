"""The restorer's perceptual criterion: LPIPS/DISTS as frozen losses, a patch discriminator trained in the same
backward pass, the stage's config checks."""

import pytest
import torch
import torch.nn.functional as F

from genvc.errors import InputError
from genvc.models.pixelflow import PixelFlowConfig, PixelFlowModel
from genvc.training.config import PerceptualConfig, TrainConfig
from genvc.training.perceptual import PatchDiscriminator, PerceptualCriterion


def _frames(n=4, size=32, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=generator) * 2 - 1


def test_one_backward_gives_each_player_its_own_gradient():
    torch.manual_seed(0)
    criterion = PerceptualCriterion(PerceptualConfig(l1=0.0, adversarial=1.0, discriminator_width=8))
    target = _frames()
    output = _frames(seed=1).requires_grad_(True)
    criterion(output, target)["loss"].backward()
    d = criterion.discriminator
    # the discriminator: the gradient of its own loss alone, on the generated frames detached
    d_loss = F.softplus(-d(target)).mean() + F.softplus(d(output.detach())).mean()
    expected = torch.autograd.grad(d_loss, list(d.parameters()))
    for p, g in zip(d.parameters(), expected):
        assert torch.allclose(p.grad, g, atol=1e-6)
    # the generator: the gradient of the non-saturating loss through the discriminator, nothing of d_loss
    probe = output.detach().clone().requires_grad_(True)
    (expected_output,) = torch.autograd.grad(F.softplus(-d(probe)).mean(), probe)
    assert torch.allclose(output.grad, expected_output, atol=1e-6)


def test_losses_are_zero_for_a_perfect_output_and_detached_in_the_log():
    criterion = PerceptualCriterion(PerceptualConfig(lpips=1.0, lpips_vgg=0.5, dists=0.5))
    target = _frames(2, 64)
    out = criterion(target.clone(), target)
    for key in ("l1", "lpips", "lpips_vgg", "dists"):
        assert out[key].item() == pytest.approx(0.0, abs=1e-5) and not out[key].requires_grad
    assert criterion.parameter_groups() == []  # no discriminator, nothing more to train


def test_the_restorer_trains_on_lpips_and_the_discriminator_on_its_loss():
    torch.manual_seed(0)
    model = PixelFlowModel(PixelFlowConfig(width=8, blocks=1, compressor_width=8, h_channels=2, unshuffle=2,
                                           h_strides=((1, 2, 2), (2, 2, 2)), restorer_width=8, restorer_blocks=1,
                                           restorer_outer_blocks=1, sketch_flow=False))
    criterion = PerceptualCriterion(PerceptualConfig(lpips=1.0, adversarial=0.01, discriminator_width=8))
    video = torch.rand(2, 3, 3, 32, 32) * 2 - 1
    blurred = F.avg_pool3d(video, (1, 3, 3), stride=1, padding=(0, 1, 1))
    conditions = {k: blurred for k in ("prediction", "anchor_first", "anchor_last", "occlusion")}
    conditions["source"] = torch.tensor([[1.0, 0.5], [1.0, 0.5]])
    conditions["sketch_qp"] = torch.tensor([[40 / 63], [40 / 63]])
    batch = {"video": video, "conditions": conditions}
    groups = [{"params": model.trainable_parameters("restorer")}, *criterion.parameter_groups()]
    optimizer = torch.optim.Adam(groups, lr=3e-3)
    first = model.training_losses(batch, stage="restorer", criterion=criterion)
    assert {"loss", "l1", "lpips", "adversarial", "discriminator", "flow_l1"} <= set(first)
    d_before = [p.detach().clone() for p in criterion.discriminator.parameters()]
    for _ in range(15):
        loss = model.training_losses(batch, stage="restorer", criterion=criterion)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    last = model.training_losses(batch, stage="restorer", criterion=criterion)
    assert last["lpips"] < first["lpips"]
    assert any(not torch.equal(a, b) for a, b in zip(d_before, criterion.discriminator.parameters()))
    assert not any(name.startswith("criterion") for name in model.state_dict())  # never in the exported model


def test_perceptual_losses_belong_to_the_restorer_stage():
    with pytest.raises(InputError, match="stage: restorer"):
        TrainConfig.from_dict({"losses": {"lpips": 1.0}})
    with pytest.raises(InputError, match=">= 0"):
        TrainConfig.from_dict({"stage": "restorer", "losses": {"adversarial": -1.0}})
    assert TrainConfig.from_dict({"stage": "restorer", "losses": {"lpips": 1.0}}).losses.active
    assert not TrainConfig.from_dict({}).losses.active


def test_patch_discriminator_scores_patches():
    logits = PatchDiscriminator(width=8, layers=3)(_frames(2, 64))
    assert logits.shape[0] == 2 and logits.shape[1] == 1 and logits.shape[-1] > 1  # one logit per patch


def test_a_perceptual_run_checkpoints_the_discriminator_resumes_and_exports_without_it(video_folder, tmp_path):
    from safetensors.torch import load_file

    from genvc.training.checkpoint import list_checkpoints
    from genvc.training.trainer import DISCRIMINATOR_NAME, Trainer
    from train_helpers import train_records, tiny_config

    model = {"width": 8, "blocks": 1, "compressor_width": 8, "h_channels": 2, "unshuffle": 2,
             "h_strides": [[1, 2, 2], [2, 2, 2]], "restorer_width": 8, "restorer_blocks": 1,
             "restorer_outer_blocks": 1, "sketch_flow": False}
    keys = {"model_module": "genvc.models.pixelflow", "model": model, "stage": "restorer", "data.clip_frames": 3,
            "data.conditions": "train_helpers:blurred_sketch", "data.num_workers": 0, "schedule.batch_size": 2,
            "schedule.ckpt_every": 2, "schedule.val_every": 2, "losses.lpips": 1.0, "losses.adversarial": 0.1,
            "losses.discriminator_width": 8}
    first = Trainer(tiny_config(video_folder, tmp_path, **keys, **{"schedule.max_steps": 2})).train()
    assert first.step == 2
    saved = list_checkpoints(tmp_path)[-1]
    discriminator = load_file(str(saved / DISCRIMINATOR_NAME))
    assert discriminator and all(k.startswith("net.") for k in discriminator)
    resumed = Trainer(tiny_config(video_folder, tmp_path, **keys, **{"schedule.max_steps": 4}), resume=True)
    weights = dict(resumed.criterion.discriminator.named_parameters())
    assert all(torch.equal(weights[k], v) for k, v in discriminator.items())  # resumed where it stopped
    resumed.train()
    records = train_records(tmp_path)
    assert [r["step"] for r in records] == [1, 2, 3, 4] and {"lpips", "adversarial", "discriminator"} <= set(records[0])
    exported = load_file(str(tmp_path / "model" / "model.safetensors"))
    assert not any("discriminator" in k or k.startswith("criterion") for k in exported)


def test_validation_lpips_only_on_crops_alexnet_can_take():
    from genvc.training.trainer import _validation_lpips

    assert _validation_lpips((16, 16)) is None and _validation_lpips((16, 64)) is None  # AlexNet leaves nothing
    assert _validation_lpips((32, 32)) is not None
