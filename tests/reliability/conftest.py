import sys
from pathlib import Path

import pytest

# tools/ holds the fuzzer and the bad-input matrix as runnable scripts; the tests reuse their modules.
TOOLS = Path(__file__).resolve().parents[2] / "tools"
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))


@pytest.fixture(scope="session")
def fuzz_seeds() -> dict[str, bytes]:
    from fuzz_corpus import make_seeds

    return make_seeds(real_sample=False)


@pytest.fixture(scope="session")
def tiny_model_folder():
    """Factory: (folder, modalities) -> folder of a tiny random GenvcModel saved with save_pretrained, or None
    when genvc.models is not available."""
    return _tiny_model_folder


def _tiny_model_folder(directory: Path, modalities: tuple[str, ...]) -> str | None:
    """A tiny random GenvcModel saved with save_pretrained (None when genvc.models is not available)."""
    try:
        import torch

        from genvc.models import CompressorConfig, GeneratorConfig, ModelConfig, VAEConfig, build_model
    except ImportError:
        return None
    transformer = dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, text_dim=16,
                       freq_dim=16, ffn_dim=32, num_layers=1, image_dim=None, rope_max_seq_len=64)
    torch.manual_seed(0)
    config = ModelConfig(vae=VAEConfig(base_channels=8), compressor=CompressorConfig(channels=16, heads=2),
                         generator=GeneratorConfig(transformer_config=transformer, text_tokens=2),
                         modalities=modalities)
    build_model(config).eval().save_pretrained(directory)
    return str(directory)

