from genvc.bench.store import Point
from genvc.bench.summary import write_summary


def _point(codec, target, bpp, vmaf, reached=True):
    return Point(video="v", codec=codec, preset="p", frames=10, width=64, height=64, target_bpp=target, bpp=bpp,
                 bytes=int(bpp * 10 * 64 * 64 / 8), total_bytes=int(bpp * 10 * 64 * 64 / 8), reached=reached, q=None,
                 metrics={"vmaf": vmaf, "psnr_y": 20 + vmaf / 10, "lpips": 0.5 - vmaf / 250,
                          "dists": 0.3 - vmaf / 500}, encode_s=2.0, decode_s=0.5, metrics_s=0.1,
                 encode_peak_mb=100.0, decode_peak_mb=200.0)


def test_summary_tables(tmp_path):
    points = [_point("x265", 0.002, 0.0045, 30.0, reached=False), _point("x265", 0.005, 0.0047, 35.0),
              _point("x265", 0.01, 0.0096, 70.0), _point("x265", 0.02, 0.019, 88.0),
              _point("vvenc", 0.002, 0.0019, 21.0), _point("vvenc", 0.005, 0.0049, 61.0),
              _point("vvenc", 0.01, 0.0095, 80.0), _point("vvenc", 0.02, 0.0186, 91.0),
              _point("genvc", 0.002, 0.00198, 38.0), _point("genvc", 0.005, 0.00491, 67.0),
              _point("genvc", 0.01, 0.0097, 81.0), _point("genvc", 0.02, 0.0198, 91.0)]
    text = write_summary(tmp_path, points, "x265").read_text()
    assert "| v | genvc p | 38.0 | 67.0 | 81.0 | 91.0 |" in text
    assert "F (0.0045) 30.0" in text  # x265's floor at the 0.002 target
    genvc_bd = next(line for line in text.splitlines() if line.startswith("| v | genvc |"))
    # per anchor: LPIPS, DISTS, VMAF, VMAF NEG, PSNR-Y
    vs_x265_lpips, vs_x265_dists, vs_x265_vmaf = [c.strip() for c in genvc_bd.split("|")[3:6]]
    for value in (vs_x265_lpips, vs_x265_dists, vs_x265_vmaf):  # better than x265 at every rate here
        assert value.startswith("-") and value.endswith("%")
    # LPIPS and DISTS lead: genvc's LPIPS as a multiple of vvenc's, 0.002 bpp: (0.5 - 38/250) / (0.5 - 21/250)
    assert text.index("## LPIPS") < text.index("## VMAF")
    assert "| v | 0.84× | 0.91× | 0.98× | 1.00× |" in text
    # rate error, Mpixel/s (40960 px), encode time over vvenc's encode at the same target, MB
    assert "| v | 0.005 | 0.00491 | -1.8 % | 0.02 | 1.0 | 0.08 | 200 |" in text
    assert "Presets: genvc p; vvenc p; x265 p" in text
    assert "% ⚠" not in text  # four points on every curve


def test_summary_warns_on_few_points_and_reports_the_worst_gap_to_vvenc(tmp_path):
    points = [_point("vvenc", 0.002, 0.002, 20.0), _point("vvenc", 0.005, 0.005, 60.0),
              _point("vvenc", 0.01, 0.01, 80.0),
              _point("genvc", 0.002, 0.002, 30.0), _point("genvc", 0.005, 0.005, 57.5),
              _point("genvc", 0.01, 0.0075, 75.0)]
    points[-1].encode_s = 6.0
    text = write_summary(tmp_path, points, "vvenc").read_text()
    genvc_bd = next(line for line in text.splitlines() if line.startswith("| v | genvc |"))
    assert "% ⚠" in genvc_bd  # three points per curve
    # gaps +10, -2.5 and, at 0.0075 bpp where vvenc's curve (log-interpolated between 60 and 80) gives 71.7, +3.3
    assert "| genvc | VMAF | -2.5 | v 0.005 bpp | +3.6 |" in text
    # PSNR-Y here is 20 + VMAF / 10: the same gaps, a tenth the size, in dB; no VMAF NEG row without its scores
    assert "| genvc | PSNR-Y (dB) | -0.25 dB | v 0.005 bpp | +0.36 dB |" in text
    assert "| genvc | VMAF NEG |" not in text
    # LPIPS is lower-is-better: its worst gap is the largest, at the same point (+2.5 / 250)
    assert "| genvc | LPIPS (lower is better) | +0.0100 | v 0.005 bpp |" in text
    assert "| v | 0.01 | 0.00750 | floor |" not in text and "| 3.0 |" in text  # 6 s vs vvenc's 2 s


def test_summary_shows_what_the_generator_adds_against_genvc_off(tmp_path):
    points = [_point("genvc-off", t, t, v) for t, v in ((0.002, 20.0), (0.005, 50.0), (0.01, 70.0), (0.02, 85.0))]
    points += [_point("genvc", t, t, v) for t, v in ((0.002, 26.0), (0.005, 55.0), (0.01, 74.0), (0.02, 84.0))]
    text = write_summary(tmp_path, points, "genvc-off").read_text()
    assert "## What the generator adds" in text
    assert "| v | 0.02 | 0.02000 | 0.02000 | 84.0 | 85.0 | -1 |" in text
    assert "VMAF: mean +3.5, worst -1, best +6 over 4 points" in text
    # LPIPS first, lower is better: the worst difference is the largest (+1 VMAF point less = +0.004)
    assert "| v | 0.02 | 0.02000 | 0.02000 | 0.1640 | 0.1600 | +0.004 |" in text
    assert "LPIPS (lower is better): mean -0.014, worst +0.004, best -0.024 over 4 points" in text
    genvc_bd = next(line for line in text.splitlines() if line.startswith("| v | genvc |"))
    assert genvc_bd.split("|")[3].strip().startswith("-")  # fewer bytes for the same VMAF than generator off
