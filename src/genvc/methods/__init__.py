"""Inner-frame methods: how a clip's frames between its two keyframes are coded and regenerated.

Each method is a `ClipMethod` registered here, and only here, under a name and the one-byte id written into the
stream.
"""

from genvc.methods.base import METHODS, ClipContext, ClipMethod, get_method, method_names

METHODS.add("interp", "genvc.methods.interp:MotionInterpolation", id=1)
# the generative methods (import torch only when used): the embedded pixel-flow generator, or a FLOW-IB VAE model
# (e.g. the Wan preset) when --model names one
METHODS.add("flowib", "genvc.methods.generative:flowib", id=2)
METHODS.add("multic", "genvc.methods.generative:multic", id=3)
METHODS.add("hybrid", "genvc.methods.generative:hybrid", id=4)
METHODS.add("sketch", "genvc.methods.sketch:SketchMethod", id=5)

__all__ = ["METHODS", "ClipContext", "ClipMethod", "get_method", "method_names"]
