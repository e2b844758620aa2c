import numpy as np
from PIL import Image

from genvc.cli import main
from genvc.samples import sample_path


def test_cli_writes_contact_sheet(tmp_path, capsys):
    out = tmp_path / "sheet.png"
    code = main(["conditions", str(sample_path("carphone")), "--level", "1", "--frames", "3", "--rows", "2",
                 "--text", "a man in a car", "-o", str(out)])
    assert code == 0
    sheet = np.asarray(Image.open(out))
    assert sheet.shape[0] > 2 * 144 and sheet.shape[1] == 4 * 176
    printed = capsys.readouterr().out
    assert "segmentation" in printed and "flow" in printed and "text" in printed
    assert [p.name for p in tmp_path.iterdir()] == ["sheet.png"]  # no temporary left


def test_cli_bad_output_dir_is_an_error(tmp_path, capsys):
    code = main(["conditions", str(sample_path("carphone")), "--frames", "2", "-o", str(tmp_path / "no" / "x.png")])
    assert code == 1 and "genvc: error" in capsys.readouterr().err
