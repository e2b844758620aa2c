"""Keyframe selection and the clip plan (Multi-C Algorithm 1).

`shot_probabilities` (TransNetV2: torch, cv2) is imported on first use, so that the container, which reads clip
plans, stays light (`import genvc.bitstream` loads neither torch nor cv2).
"""

from genvc.clipplan.plan import Clip, ClipPlan, plan_clips

__all__ = ["Clip", "ClipPlan", "plan_clips", "shot_probabilities"]


def __getattr__(name: str):
    if name == "shot_probabilities":
        from genvc.clipplan.shots import shot_probabilities

        return shot_probabilities
    raise AttributeError(f"module 'genvc.clipplan' has no attribute {name!r}")
