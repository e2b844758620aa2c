"""Keyframe selection and the clip plan (Multi-C Algorithm 1)."""

from genvc.segment.plan import Clip, ClipPlan, plan_clips
from genvc.segment.shots import shot_probabilities

__all__ = ["Clip", "ClipPlan", "plan_clips", "shot_probabilities"]
