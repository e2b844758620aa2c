import pytest
import torch

from genvc.models import CompressorConfig, GeneratorConfig, ModelConfig, VAEConfig, build_model

TINY_TRANSFORMER = dict(
    patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, text_dim=16, freq_dim=16, ffn_dim=32,
    num_layers=1, image_dim=None, rope_max_seq_len=64,
)
TINY_WAN_VAE = dict(base_dim=8, num_res_blocks=1, dim_mult=[1, 1, 1, 1])


def tiny_config(**overrides) -> ModelConfig:
    base = dict(
        vae=VAEConfig(base_channels=8),
        compressor=CompressorConfig(channels=16, heads=2),
        generator=GeneratorConfig(transformer_config=dict(TINY_TRANSFORMER), text_tokens=2),
    )
    return ModelConfig(**{**base, **overrides})


@pytest.fixture(scope="session")
def tiny_model():
    torch.manual_seed(0)
    return build_model(tiny_config()).eval()


@pytest.fixture
def video():
    torch.manual_seed(1)
    return torch.rand(2, 3, 9, 32, 32) * 2 - 1


@pytest.fixture(scope="session")
def make_config():
    """Factory of tiny `ModelConfig`s (keyword overrides)."""
    return tiny_config


@pytest.fixture(scope="session")
def tiny_wan_vae():
    return dict(TINY_WAN_VAE)


@pytest.fixture(scope="session")
def tiny_transformer():
    return dict(TINY_TRANSFORMER)


@pytest.fixture(scope="session")
def save_wan_core(tiny_wan_vae, tiny_transformer):
    """Writes the tiny Wan VAE and FLF2V transformer (36 in, 16 out; `transformer` overrides its config) under
    `root/vae` and `root/transformer`, the two subfolders every hub stand-in has."""
    def save(root, **transformer) -> None:
        from diffusers import AutoencoderKLWan, WanTransformer3DModel

        torch.manual_seed(0)
        AutoencoderKLWan(**tiny_wan_vae).save_pretrained(root / "vae")
        WanTransformer3DModel(**{**tiny_transformer, **transformer}, in_channels=36, out_channels=16
                              ).save_pretrained(root / "transformer")

    return save
