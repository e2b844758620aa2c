"""Inner-frame methods: how a clip's frames between its two keyframes are coded and regenerated.

Each method is a `ClipMethod` registered under a name and a one-byte id written into the stream.
"""

from genvc.methods.base import ClipContext, ClipMethod, get_method, method_names, register_method

__all__ = ["ClipContext", "ClipMethod", "get_method", "method_names", "register_method"]
