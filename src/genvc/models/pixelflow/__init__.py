"""The small preset's generator (FLOW-IB + Multi-C on the receiver's prediction, exactly invertible latent).

Also the training loop's model contract (`model_module: genvc.models.pixelflow`): `ModelConfig`, `build_model`.
"""

from genvc.models.pixelflow.config import MODALITIES, RECEIVER_INPUTS, PixelFlowConfig
from genvc.models.pixelflow.model import PixelFlowModel, build_model

ModelConfig = PixelFlowConfig  # the name the training loop looks up

__all__ = ["MODALITIES", "RECEIVER_INPUTS", "ModelConfig", "PixelFlowConfig", "PixelFlowModel", "build_model"]
