"""One pretrained-model convention (in the spirit of diffusers' `ModelMixin` + `ConfigMixin`): a folder with
`config.json` (the model's config dataclass) and `model.safetensors`, loaded with `from_pretrained`, saved
atomically with `save_pretrained`, identified in streams by `weights_hash` (8 bytes of sha256 over the weights
file's bytes, so two byte-identical files hash alike everywhere)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from genvc.errors import GenvcError, ModelError
from genvc.utils.atomic import write_bytes_atomic

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


class PretrainedMixin:
    """Mix into an `nn.Module` with `config_class` (a dataclass with `to_dict`/`from_dict` and a `name`), an
    `__init__(config)`, and a `config` attribute."""

    config_class: type
    #: the `kind` written into config.json so a folder of another model kind is refused by name
    model_kind: str

    @property
    def model_id(self) -> str:
        return self.config.name

    def weights_bytes(self) -> bytes:
        import safetensors.torch

        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        return safetensors.torch.save(state, metadata={"model_id": self.model_id})

    def weights_hash(self) -> bytes:
        if getattr(self, "_weights_hash", None) is None or self.training:
            self._weights_hash = hashlib.sha256(self.weights_bytes()).digest()[:8]
        return self._weights_hash

    def save_pretrained(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(directory / WEIGHTS_NAME, self.weights_bytes())
        config = {"kind": self.model_kind, **self.config.to_dict()}
        write_bytes_atomic(directory / CONFIG_NAME, (json.dumps(config, indent=2) + "\n").encode())
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path):
        import safetensors
        import safetensors.torch

        directory = Path(directory)
        try:
            config = json.loads((directory / CONFIG_NAME).read_text())
            kind = config.pop("kind", None) if isinstance(config, dict) else None
            if kind != cls.model_kind:
                raise ModelError(f"{directory} holds a model of kind {kind!r}, not a {cls.model_kind!r} model")
            model = cls(cls.config_class.from_dict(config))
            state = safetensors.torch.load_file(directory / WEIGHTS_NAME)
            model.load_state_dict(state)
        except GenvcError:
            raise
        except (OSError, ValueError, TypeError, RuntimeError, safetensors.SafetensorError) as exc:
            raise ModelError(f"cannot load a {cls.model_kind} model from {directory}: {exc}") from None
        return model.eval()
