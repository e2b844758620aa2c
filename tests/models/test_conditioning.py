import pytest
import torch

from genvc.models.conditioning import ModalityConditioner


def _conditioner(**kw):
    torch.manual_seed(0)
    return ModalityConditioner(("seg", "pose"), channels=4, **kw)


def test_role_embeddings_mark_present_and_absent_modalities():
    cond = _conditioner().eval()
    like = torch.zeros(2, 4, 3, 2, 2)
    seg = torch.randn_like(like)
    out = cond({"seg": seg}, like=like)
    assert out.shape == (2, 8, 3, 2, 2)
    e_d, e_c = cond.roles[:, 0], cond.roles[:, 1]
    assert torch.allclose(out[:, :4], seg + e_c[0].view(1, 4, 1, 1, 1))  # conditioning role
    assert torch.allclose(out[:, 4:], e_d[1].view(1, 4, 1, 1, 1).expand(2, 4, 3, 2, 2))  # absent: zeros + e_d


def test_modality_dropout_in_training_only():
    cond = _conditioner(dropout=1.0)
    like = torch.zeros(2, 4, 1, 2, 2)
    seg, pose = torch.randn_like(like), torch.randn_like(like)
    dropped = cond.train()({"seg": seg, "pose": pose}, like=like)
    assert torch.allclose(dropped[:, :4], cond.roles[0, 0].view(1, 4, 1, 1, 1).expand_as(seg))
    kept = cond.eval()({"seg": seg, "pose": pose}, like=like)
    assert torch.allclose(kept[:, 4:], pose + cond.roles[1, 1].view(1, 4, 1, 1, 1))


def test_partial_dropout_rate_and_no_role_switch():
    torch.manual_seed(0)
    cond = ModalityConditioner(("seg",), channels=1, dropout=0.3, role_embeddings=False).train()
    like = torch.zeros(4000, 1, 1, 1, 1)
    out = cond({"seg": torch.ones_like(like)}, like=like)
    assert set(out.unique().tolist()) == {0.0, 1.0}  # no offsets without role embeddings
    assert 0.25 < (out == 0).float().mean().item() < 0.35


def test_unknown_modality_is_refused():
    with pytest.raises(ValueError):
        _conditioner()({"depth": torch.zeros(1, 4, 1, 1, 1)}, like=torch.zeros(1, 4, 1, 1, 1))
