"""Multi-C Algorithm 1: keyframes at shot boundaries (p > threshold) or every `interval` frames.

Frames are 0-based here (the paper is 1-based). A keyframe chosen by the interval rule is shared by the two clips
that meet at it; a keyframe chosen at a shot boundary (the last frame of the old shot, as TransNetV2 marks it) ends
its clip, and the next clip starts one frame later (the paper's offset rule), so that frame is a keyframe too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

SHOT, INTERVAL, EDGE = "shot", "interval", "edge"


@dataclass(frozen=True)
class Clip:
    """Frames start..end inclusive; both ends are keyframes."""

    start: int
    end: int

    @property
    def num_frames(self) -> int:
        return self.end - self.start + 1


@dataclass(frozen=True)
class ClipPlan:
    num_frames: int
    clips: tuple[Clip, ...]

    @property
    def keyframes(self) -> list[int]:
        """Every frame coded as a still image, each once, in order."""
        return sorted({i for c in self.clips for i in (c.start, c.end)})

    def validate(self) -> None:
        """Clips must tile 0..num_frames-1 in order without gaps or overlaps beyond a shared keyframe."""
        expected = 0  # the first frame not yet covered
        for clip in self.clips:
            allowed = {expected, expected - 1} if expected else {0}  # a shared keyframe may be covered twice
            if clip.start > clip.end or clip.start not in allowed:
                raise ValueError(f"clip {clip} does not follow frame {expected - 1}")
            expected = clip.end + 1
        if expected != self.num_frames:
            raise ValueError(f"clips cover {expected} of {self.num_frames} frames")


def plan_clips(shot_probs: Sequence[float] | None, num_frames: int, interval: int = 45,
               threshold: float = 0.5, merge_runs: bool = True) -> ClipPlan:
    """The clip plan for `num_frames` frames.

    `shot_probs[i]` is the shot-transition probability of frame i (None: no shot detection, interval only).
    `merge_runs` counts a run of consecutive frames above threshold (a dissolve) as one boundary at its last frame,
    so a gradual transition does not turn every frame of it into a keyframe; False is Algorithm 1 verbatim.
    """
    if num_frames < 1:
        raise ValueError("a clip plan needs at least one frame")
    if interval < 1:
        raise ValueError(f"interval must be at least 1, got {interval}")
    is_shot = [False] * num_frames
    if shot_probs is not None:
        if len(shot_probs) != num_frames:
            raise ValueError(f"{len(shot_probs)} shot probabilities for {num_frames} frames")
        is_shot = [float(p) > threshold for p in shot_probs]
        if merge_runs:
            is_shot = [s and (i + 1 == num_frames or not is_shot[i + 1]) for i, s in enumerate(is_shot)]

    key_types = {0: EDGE}
    last_key = 0
    for i in range(1, num_frames):
        if i - last_key >= interval or is_shot[i]:
            key_types[i] = INTERVAL if i - last_key >= interval else SHOT
            last_key = i
    key_types.setdefault(num_frames - 1, EDGE)

    keys = sorted(key_types)
    if len(keys) == 1:
        return ClipPlan(num_frames, (Clip(0, 0),))
    clips = []
    for s, e in zip(keys, keys[1:]):
        if key_types[s] == SHOT:
            s += 1  # the clip after a cut starts on the first frame of the new shot
        if s <= e:
            clips.append(Clip(s, e))
    return ClipPlan(num_frames, tuple(clips))
