"""`accelerate launch` with 2 CPU processes (gloo) on configs/wan-lora.yaml pointed at a tiny stand-in hub: the
multi-GPU code path of the Wan preset (frozen bf16 FLF2V transformer + CLIP + umT5 embedding, LoRA under DDP)."""

import subprocess
import sys

import pytest
import safetensors.torch
import torch

from genvc.models import GenvcModel
from train_helpers import ROOT, subprocess_env, train_records
from wan_hub import make_wan_hub, wan_overrides


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    return make_wan_hub(tmp_path_factory.mktemp("wan-hub"))


def test_accelerate_launch_two_cpu_processes_trains_the_wan_preset(hub, video_folder, tmp_path):
    env = {**subprocess_env(), "ACCELERATE_USE_CPU": "true", "GENVC_CACHE": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "-m", "genvc.cli", "train", "--config", str(ROOT / "configs" / "wan-lora.yaml")]
    for arg in wan_overrides(hub, video_folder, tmp_path / "run"):
        cmd += ["--set", arg]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    run = tmp_path / "run"
    checkpoint = run / "checkpoints" / "step-00000002"
    assert {p.name for p in checkpoint.glob("random_states_*.pkl")} == {"random_states_0.pkl", "random_states_1.pkl"}
    assert [r["step"] for r in train_records(run)] == [1, 2]
    saved = safetensors.torch.load_file(str(run / "model" / "model.safetensors"))
    transformer_keys = [k for k in saved if k.startswith("generator.transformer.")]
    assert transformer_keys and all("lora_" in k for k in transformer_keys)  # the frozen weights stay in the hub
    assert any(torch.count_nonzero(v) for k, v in saved.items() if "lora_B" in k)  # two steps moved B off zero
    model = GenvcModel.from_pretrained(run / "model")
    assert model.generator.transformer.blocks[0].attn1.to_q.base_layer.weight.dtype == torch.bfloat16


def test_the_fsdp_config_parses_and_wraps_the_wan_blocks():
    # accelerate's FSDP plugin refuses to start without a GPU, so the launch itself is not run here
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DistributedType
    from diffusers import WanTransformer3DModel

    config = load_config_from_file(str(ROOT / "configs" / "accelerate" / "fsdp.yaml"))
    assert config.distributed_type == DistributedType.FSDP and config.fsdp_config["fsdp_use_orig_params"]
    tiny = WanTransformer3DModel(num_attention_heads=2, attention_head_dim=8, text_dim=16, freq_dim=16, ffn_dim=32,
                                 num_layers=1)
    assert type(tiny.blocks[0]).__name__ == config.fsdp_config["fsdp_transformer_layer_cls_to_wrap"]
