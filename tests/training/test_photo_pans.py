import numpy as np

from genvc.training.photo_pans import LONG_SIDE, MAX_SPEED, SHORT_SIDE, pan_clip, render_pans


def _photo(h=900, w=1400):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_a_pan_is_a_smooth_camera_path_rebuilt_from_its_seed():
    photo = _photo()
    clip = pan_clip(photo, seed=3, frames=12)
    assert clip.shape == (12, SHORT_SIDE, LONG_SIDE, 3) and clip.dtype == np.uint8
    assert np.array_equal(clip, pan_clip(photo, seed=3, frames=12))
    assert not np.array_equal(clip, pan_clip(photo, seed=4, frames=12))
    assert pan_clip(_photo(1400, 900), seed=3, frames=2).shape == (2, LONG_SIDE, SHORT_SIDE, 3)  # portrait


def test_consecutive_frames_move_by_at_most_the_speed_cap():
    # a smooth photo (no aliasing): the best integer shift between neighbours is within the cap
    y, x = np.mgrid[0:900, 0:1400]
    photo = np.stack([(127 + 120 * np.sin(x / 37.0 + y / 53.0)), (127 + 120 * np.cos(x / 41.0)),
                      (127 + 100 * np.sin(y / 29.0))], axis=-1).astype(np.uint8)
    for seed in range(4):
        clip = pan_clip(photo, seed=seed, frames=6).astype(np.float32)
        a, b = clip[2, 40:-40, 40:-40], clip[3]
        errors = {(dy, dx): np.abs(a - b[40 + dy:b.shape[0] - 40 + dy, 40 + dx:b.shape[1] - 40 + dx]).mean()
                  for dy in range(-10, 11) for dx in range(-10, 11)}
        dy, dx = min(errors, key=errors.get)
        assert np.hypot(dy, dx) <= MAX_SPEED * 1.2 + 1


def test_render_pans_writes_lossless_clips_once(tmp_path):
    import cv2

    from genvc.io import read_video

    photo_path = tmp_path / "p.png"
    cv2.imwrite(str(photo_path), _photo(600, 900))
    paths = render_pans([photo_path], tmp_path / "pans", clips_per_photo=1)
    frames = read_video(paths[0], max_frames=3).frames
    assert frames.shape == (3, SHORT_SIDE, LONG_SIDE, 3)
    rgb = cv2.cvtColor(cv2.imread(str(photo_path)), cv2.COLOR_BGR2RGB)
    seed = __import__("zlib").crc32(b"p-0")
    assert np.array_equal(frames, pan_clip(rgb, seed)[:3])  # lossless
    mtime = paths[0].stat().st_mtime_ns
    render_pans([photo_path], tmp_path / "pans", clips_per_photo=1)
    assert paths[0].stat().st_mtime_ns == mtime
