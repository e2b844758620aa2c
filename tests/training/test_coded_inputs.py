"""Training clips' receiver inputs as the codec computes them: on whole frames, then cut like the crop."""

import numpy as np

from genvc.conditions.levels import level_config
from genvc.training import coded_inputs


def _moving_pattern(frames=5, height=200, width=240, speed=3):
    y, x = np.mgrid[:height, :width]
    clip = [np.stack([((x - speed * t) // 12 + y // 12) % 2 * 200 + 20] * 3, axis=-1) for t in range(frames)]
    return np.stack(clip).astype(np.uint8)


def test_conditions_are_extracted_on_whole_frames_then_cropped():
    whole = _moving_pattern()
    stride = level_config(coded_inputs.CONDITION_LEVEL).flow_stride
    top, left, size = stride - 20, stride - 20, 48  # a crop smaller than the flow grid, around one grid point
    crop = whole[:, top:top + size, left:left + size]
    cut = coded_inputs.coded_receiver_inputs_with_conditions(crop, full_frames=whole, crop_box=(top, left))
    alone = coded_inputs.coded_receiver_inputs_with_conditions(crop)
    assert cut["flow"].shape == crop.shape
    assert cut["flow"][:-1].max() > 0  # the arrow of the whole frame's grid point inside the crop
    assert alone["flow"].max() == 0  # on the crop alone the grid has no point at all
    # the prediction is interpolated between the whole keyframes, then cut
    assert cut["prediction"].shape == crop.shape and not np.array_equal(cut["prediction"], alone["prediction"])


def test_the_stage_1_hook_draws_the_flow_on_the_crop_alone():
    crop = _moving_pattern(height=64, width=64)
    inputs = coded_inputs.coded_receiver_inputs_with_flow(crop)
    assert inputs["flow"].shape == crop.shape and inputs["flow"][:-1].max() > 0  # a 16-pixel grid on the crop
    assert inputs["flow"][-1].max() == 0  # the last frame has no pair
