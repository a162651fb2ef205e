import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.cli import main


def _as_vae(run: Path, tmp_path: Path) -> Path:
    fake = tmp_path / "vae-run"
    shutil.copytree(run, fake)
    for state in fake.glob("checkpoints/*/state.json"):
        s = json.loads(state.read_text())
        s["kind"] = "vae"
        state.write_text(json.dumps(s))
    return fake


@pytest.fixture(scope="module")
def digits_classifier(tmp_path_factory):
    from ganforge.experiments.augment import train_reference_classifier

    path, acc = train_reference_classifier("digits", tmp_path_factory.mktemp("clf"), steps=150, width=8)
    assert acc > 0.3
    return path


@pytest.mark.parametrize("verb", ["interpolate", "steer", "probe", "augment"])
def test_help_has_examples(verb, capsys):
    with pytest.raises(SystemExit) as e:
        main([verb, "--help"])
    assert e.value.code == 0
    assert f"ganforge {verb}" in capsys.readouterr().out


def test_interpolate_end_to_end(digits_cgan, tmp_path, capsys):
    out = tmp_path / "walks"
    assert main(["interpolate", str(digits_cgan), "-o", str(out), "--pairs", "2", "--steps", "4",
                 "--classes", "1", "7", "--real-index", "0", "1", "--invert-steps", "30"]) == 0
    text = capsys.readouterr().out
    for f in ("walk-linear.png", "walk-spherical.png", "walk-spherical.gif", "walk-classes.png", "walk-real.png"):
        assert (out / f).exists(), f
    assert "reconstruction RMSE" in text
    assert np.load(out / "inverted_z.npy").shape == (2, 16)


def test_steer_end_to_end_with_a_classifier(digits_gan, digits_classifier, tmp_path, capsys):
    png = tmp_path / "steer.png"
    assert main(["steer", str(digits_gan), "--to", "3", "-n", "8", "--steps", "20", "--lr", "0.1",
                 "--classifier", str(digits_classifier), "-o", str(png)]) == 0
    text = capsys.readouterr().out
    assert png.exists() and "success rate:" in text and "mean distance moved in z" in text
    assert "| thickness (px) |" in text
    assert main(["steer", str(digits_gan), "--property", "thickness", "-n", "4", "--steps", "5",
                 "--classifier", str(digits_classifier), "-o", str(tmp_path / "t.png")]) == 0
    assert "predicted class unchanged" in capsys.readouterr().out


@pytest.mark.parametrize("args, msg", [
    (["--to", "3"], "shipped MNIST"),  # unconditional 8x8 model, no classifier that reads it
    (["--to", "12", "--classifier", "CLF"], "outside the classifier's classes"),
])
def test_steer_bad_inputs(digits_gan, digits_classifier, args, msg, capsys):
    args = [str(digits_classifier) if a == "CLF" else a for a in args]
    assert main(["steer", str(digits_gan), *args]) == 2
    err = capsys.readouterr().err
    assert msg in err and err.count("\n") == 1 and "Traceback" not in err


def test_class_outside_model_classes(digits_cgan, digits_classifier, capsys):
    assert main(["steer", str(digits_cgan), "--to", "3", "--class", "12", "--classifier", str(digits_classifier)]) == 2
    assert "outside this model's classes 0..9" in capsys.readouterr().err
    assert main(["interpolate", str(digits_cgan), "--classes", "3", "10"]) == 2
    assert "outside this model's classes" in capsys.readouterr().err


def test_vae_checkpoint_is_refused(digits_gan, tmp_path, capsys):
    fake = _as_vae(Path(digits_gan), tmp_path)
    for verb in (["steer", str(fake), "--to", "3"], ["interpolate", str(fake)], ["probe", str(fake)]):
        assert main(verb) == 2
        err = capsys.readouterr().err
        assert "is a vae checkpoint" in err and "needs a GAN" in err


def test_probe_cli(digits_gan, tmp_path, capsys):
    js = tmp_path / "probe.json"
    assert main(["probe", str(digits_gan), "--sizes", "100", "all", "--json", str(js)]) == 0
    assert "trained D" in capsys.readouterr().out
    res = json.loads(js.read_text())
    assert res["sizes"] == [100, 1297] and min(res["accuracy"]["trained D"]) > 0.3
    assert main(["probe", str(digits_gan), "--sizes", "ten"]) == 2


def test_augment_end_to_end_tiny(tmp_path, capsys):
    js = tmp_path / "aug.json"
    assert main(["augment", "--data", "digits", "--n", "5", "--seeds", "0", "1", "--gan-preset", "digits-mlp",
                 "--gan-steps", "10", "--gan-full-steps", "10", "--set", "model.g_hidden=32",
                 "--set", "model.d_hidden=32", "--synth-per-class", "10", "--clf-steps", "15", "--clf-width", "4",
                 "--max-test", "200", "--runs-dir", str(tmp_path / "runs"), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "| real per class | real | classic | gan-few | gan-full |" in out and "| 5 |" in out
    res = json.loads(js.read_text())
    assert set(res["accuracy"]) == {"5/real", "5/classic", "5/gan-few", "5/gan-full"}
    assert all(len(v) == 2 and all(0 <= a <= 1 for a in v) for v in res["accuracy"].values())
    assert main(["augment", "--data", "digits", "--n", "0"]) == 2
