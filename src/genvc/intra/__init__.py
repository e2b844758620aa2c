"""Keyframe (still image) coding behind one interface, with quality chosen by a byte budget."""

from genvc.intra.base import EncodedImage, IntraCodec, codec_by_id, codec_names, encode_to_budget, get_codec

__all__ = ["EncodedImage", "IntraCodec", "codec_by_id", "codec_names", "encode_to_budget", "get_codec"]
