"""Inner-frame methods: how a clip's frames between its two keyframes are coded and regenerated.

Each method is a `ClipMethod` registered under a name and a one-byte id written into the stream.
"""

from genvc.methods.base import ClipContext, ClipMethod, get_method, method_names, register_method

# the generative methods (import torch/diffusers only when used)
register_method("flowib", 2, "genvc.methods.flowib:FlowIBMethod")
register_method("multic", 3, "genvc.methods.flowib:MultiCMethod")
register_method("hybrid", 4, "genvc.methods.flowib:HybridMethod")
register_method("sketch", 5, "genvc.methods.sketch:SketchMethod")

__all__ = ["ClipContext", "ClipMethod", "get_method", "method_names", "register_method"]
