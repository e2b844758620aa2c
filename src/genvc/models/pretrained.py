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
    #: whether a config.json without a `kind` is read as this kind (folders saved before kinds were written)
    kind_optional: bool = False

    @property
    def model_id(self) -> str:
        return self.config.name

    def saved_state_dict(self) -> dict:
        """The tensors the weights file holds (all of them unless a model leaves out frozen pretrained parts)."""
        return {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}

    def load_saved_state(self, state: dict, directory: Path) -> None:
        """Load what `saved_state_dict` saved; ModelError (or RuntimeError) when it does not fit the config."""
        self.load_state_dict(state)

    def weights_bytes(self) -> bytes:
        import safetensors.torch

        return safetensors.torch.save(self.saved_state_dict(), metadata={"model_id": self.model_id})

    def weights_hash(self) -> bytes:
        # not cached: weights changed in eval mode (a load, an in-place edit) must change it; the methods cache it
        return hashlib.sha256(self.weights_bytes()).digest()[:8]

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
            if kind is None and cls.kind_optional and isinstance(config, dict):
                kind = cls.model_kind
            if kind != cls.model_kind:
                raise ModelError(f"{directory} holds a model of kind {kind!r}, not a {cls.model_kind!r} model")
            model = cls(cls.config_class.from_dict(config))
            state = safetensors.torch.load_file(directory / WEIGHTS_NAME)
            model.load_saved_state(state, directory)
        except GenvcError:
            raise
        except (OSError, ValueError, TypeError, RuntimeError, safetensors.SafetensorError) as exc:
            raise ModelError(f"cannot load a {cls.model_kind} model from {directory}: {exc}") from None
        return model.eval()
