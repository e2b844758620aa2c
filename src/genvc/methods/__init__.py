"""Inner-frame methods: how a clip's frames between its two keyframes are coded and regenerated.

Each method is a `ClipMethod` registered under a name and a one-byte id written into the stream.
"""

from genvc.methods.base import ClipContext, ClipMethod, get_method, method_names, register_method

# the generative methods (import torch only when used): the embedded pixel-flow generator, or a FLOW-IB VAE model
# (e.g. the Wan preset) when --model names one
register_method("flowib", 2, "genvc.methods.generative:flowib")
register_method("multic", 3, "genvc.methods.generative:multic")
register_method("hybrid", 4, "genvc.methods.generative:hybrid")
register_method("sketch", 5, "genvc.methods.sketch:SketchMethod")

__all__ = ["ClipContext", "ClipMethod", "get_method", "method_names", "register_method"]
