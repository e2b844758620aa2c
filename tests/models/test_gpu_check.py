"""tools/gpu_check.py on tiny stand-ins on CPU: the same code the H100/H200 run takes, in seconds."""

import importlib.util
import json
from pathlib import Path

import torch

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "gpu_check.py"


def _load():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_check_runs_tiny_on_cpu(tmp_path):
    gpu_check = _load()
    out = tmp_path / "check.json"
    args = ["--tiny", "--cpu", "--frames", "5", "--steps", "2", "--modalities", "pose", "--out", str(out)]
    assert gpu_check.main(args) == 0
    result = json.loads(out.read_text())
    assert result["only_trained_parts_have_gradients"] and result["frozen_with_grad"] == []
    assert result["params_with_grad"] == result["trainable_params"] > 0  # every trained tensor got a gradient
    assert result["lora_tensors_with_grad"] > 0
    assert result["decoded_shape"] == [1, 3, 5, 32, 32] and result["latent_shape"] == [1, 16, 2, 4, 4]
    for key in ("encode_vae_x2_clip", "train_step", "decode_2_steps"):
        assert result[key]["seconds"] > 0


def test_materialize_fills_every_meta_tensor_with_finite_values():
    gpu_check = _load()
    model = gpu_check.build(tiny=True, device=torch.device("cpu"), modalities=())
    assert all(p.device.type == "cpu" and torch.isfinite(p).all() for p in model.parameters())
    assert next(model.generator.transformer.parameters()).dtype == torch.bfloat16
    lora_b = [p for n, p in model.named_parameters() if "lora_B" in n]
    assert lora_b and all(torch.count_nonzero(p) == 0 for p in lora_b)  # as peft starts: B = 0
