"""Training genvc models: configs, clip datasets, the accelerate loop, checkpoints and export."""

from genvc.training.config import DataConfig, OptimConfig, ScheduleConfig, TrainConfig, load_config
from genvc.training.model_io import export_checkpoint, export_model

__all__ = ["DataConfig", "OptimConfig", "ScheduleConfig", "TrainConfig", "load_config", "export_checkpoint",
           "export_model", "Trainer"]


def __getattr__(name: str):
    if name == "Trainer":  # imports accelerate: only when asked for
        from genvc.training.trainer import Trainer

        return Trainer
    raise AttributeError(name)
