"""Bounds on every header field and length, checked before anything is allocated from them."""

MAX_SIDE = 8192  # pixels, width or height
MIN_SIDE = 8
MAX_FRAME_PIXELS = 8192 * 4320  # 8K
MAX_FRAMES = 1_000_000
MAX_CLIP_FRAMES = 4096
MAX_CLIP_PIXELS = 1 << 30  # frames × width × height of one clip, the decoder's working set
MAX_FPS_TERM = 1 << 31  # numerator / denominator of the frame rate
MAX_MODEL_ID = 64  # bytes of UTF-8
MAX_UNIT_BYTES = 64 << 20
MAX_SECTIONS = 16
MAX_KEYFRAME_SCALE_LOG2 = 3  # keyframes may be coded at up to 1/8 size
