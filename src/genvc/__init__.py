"""genvc: a generative video codec for ultra-low bitrates."""

from genvc.errors import FormatError, GenvcError, InputError, ModelError, WorkerError

__version__ = "0.1.0"
__all__ = ["GenvcError", "FormatError", "InputError", "ModelError", "WorkerError", "__version__"]
