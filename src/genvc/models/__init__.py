"""FLOW-IB / Multi-C models: the contract the training loop and the codec methods code against.

- `ModelConfig` (+ sub-configs) with `to_dict` / `from_dict`.
- `GenvcModel` with `training_losses(batch, stage="flow"|"vae")`, `reconstruct`, `save_pretrained`,
  `from_pretrained`, `weights_hash`, `model_id`.
- `build_model(config)`.
"""

from genvc.models.config import (
    CompressorConfig,
    EntropyConfig,
    GeneratorConfig,
    ModelConfig,
    VAEConfig,
)
from genvc.models.genvc_model import STAGES, GenvcModel, build_model

__all__ = [
    "STAGES", "CompressorConfig", "EntropyConfig", "GeneratorConfig", "GenvcModel", "ModelConfig", "VAEConfig",
    "build_model",
]
