"""The intra-codec interface, the registry, and the byte-budget search shared by all codecs."""

from __future__ import annotations

import abc
from dataclasses import dataclass

import cv2
import numpy as np

from genvc.errors import FormatError, InputError
from genvc.ladders import KEYFRAME_MAX_SCALE_LOG2
from genvc.ratesearch import first_true
from genvc.utils.blocks import pad_to_blocks, padded, scaled_size
from genvc.utils.registry import LazyRegistry


@dataclass
class EncodedImage:
    data: bytes
    codec_id: int
    scale_log2: int  # coded at 1 / 2**scale_log2 of the frame size, upsampled at the decoder
    quality: int


class IntraCodec(abc.ABC):
    name: str
    codec_id: int  # set by `get_codec` from the registry (`CODECS`), where each id is declared
    #: quality parameters, best first: a larger index gives fewer bytes (monotone for the budget search).
    qualities: range

    @abc.abstractmethod
    def encode(self, image: np.ndarray, quality: int) -> bytes:
        """Code an H×W×3 uint8 image whose sides are whole blocks (`genvc.utils.blocks`)."""

    @abc.abstractmethod
    def decode(self, data: bytes, width: int, height: int) -> np.ndarray:
        """Decode to H×W×3 uint8 of exactly the padded size it was coded at; FormatError if it cannot."""

    @property
    def default_quality(self) -> int:
        return self.qualities[len(self.qualities) // 3]


def prepare(image: np.ndarray, scale_log2: int) -> np.ndarray:
    h, w = image.shape[:2]
    if scale_log2:
        sw, sh = scaled_size(w, h, 1 << scale_log2)
        image = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA)
    return pad_to_blocks(np.ascontiguousarray(image))


def decode_keyframe(codec: "IntraCodec", data: bytes, width: int, height: int, scale_log2: int) -> np.ndarray:
    """Decode a keyframe coded by `encode_to_budget` back to width×height."""
    sw, sh = scaled_size(width, height, 1 << scale_log2)
    image = codec.decode(data, padded(sw), padded(sh))[:sh, :sw]
    if scale_log2:
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(image)


def encode_to_budget(codec: IntraCodec, image: np.ndarray, max_bytes: int | None,
                     max_scale_log2: int = KEYFRAME_MAX_SCALE_LOG2) -> EncodedImage:
    """The best quality that fits `max_bytes` (bisection over the codec's quality range, `first_true`).

    When even the lowest quality at full size does not fit, the keyframe is coded at 1/2 then 1/4 size
    (upsampled at the decoder): at these budgets a smaller, cleaner picture beats a blocky full-size one.
    If nothing fits, the smallest encoding is returned; the caller sees its size.
    """
    if max_bytes is None:
        q = codec.default_quality
        return EncodedImage(codec.encode(prepare(image, 0), q), codec.codec_id, 0, q)
    if max_bytes < 1:
        raise InputError(f"keyframe budget must be positive, got {max_bytes} bytes")
    smallest = None
    for scale_log2 in range(max_scale_log2 + 1):
        prepared = prepare(image, scale_log2)
        qs, coded = codec.qualities, {}

        def fits(index: int) -> bool:  # qualities are best first: a larger index gives fewer bytes
            coded[index] = EncodedImage(codec.encode(prepared, qs[index]), codec.codec_id, scale_log2, qs[index])
            return len(coded[index].data) <= max_bytes

        best = first_true(len(qs), fits)
        if best < len(qs):
            return coded[best]
        tried = min(coded.values(), key=lambda e: len(e.data))
        if smallest is None or len(tried.data) < len(smallest.data):
            smallest = tried
    return smallest


#: the keyframe codecs, each under its name and the one-byte id written into keyframe units (declared only here)
CODECS = LazyRegistry("intra codec", id_attribute="codec_id")
CODECS.add("av1", "genvc.intra.ffmpeg_codecs:AV1Intra", id=1)
CODECS.add("vvc", "genvc.intra.ffmpeg_codecs:VVCIntra", id=2)
CODECS.add("avif", "genvc.intra.avif:AVIFCodec", id=3)


def codec_names() -> list[str]:
    return CODECS.names()


def get_codec(name: str) -> IntraCodec:
    return CODECS.build(name)


def codec_by_id(codec_id: int) -> IntraCodec:
    name = CODECS.name_for_id(codec_id)
    if name is None:
        raise FormatError(f"unknown keyframe codec id {codec_id}")
    return get_codec(name)
