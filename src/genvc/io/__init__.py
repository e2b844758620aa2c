"""Video in/out: any file PyAV reads in, mp4 (H.264, lossless or high quality) and y4m out."""

from genvc.io.video import Video, probe_video, read_video, write_video

__all__ = ["Video", "probe_video", "read_video", "write_video"]
