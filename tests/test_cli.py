"""`ganforge` end to end on 8×8 digits, and one-line errors with exit code 2."""

import json

import numpy as np
import pytest
from PIL import Image

from ganforge.cli import main

FAST = ["--preset", "digits-mlp", "--steps", "12", "--quiet", "--set", "train.log_every=4",
        "--set", "train.checkpoint_every=6", "--set", "train.sample_every=6"]


@pytest.fixture
def run_dir(tmp_path, capsys):
    assert main(["train", *FAST, "--runs-dir", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "run directory:" in out and "sample grid:" in out and "checkpoint:" in out
    return tmp_path / "runs" / "001-digits-mlp"


def test_train_then_sample_png_npz_folder(run_dir, tmp_path):
    assert main(["sample", str(run_dir), "-n", "10", "-o", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size[0] >= 256
    assert main(["sample", str(run_dir), "-n", "7", "-o", str(tmp_path / "s.npz"), "--seed", "3"]) == 0
    z = np.load(tmp_path / "s.npz")
    assert z["images"].shape == (7, 8, 8) and z["images"].dtype == np.uint8 and "labels" not in z.files
    assert main(["sample", str(run_dir), "-n", "7", "-o", str(tmp_path / "t.npz"), "--seed", "3",
                 "--batch-size", "2"]) == 0
    assert np.array_equal(np.load(tmp_path / "t.npz")["images"], z["images"])  # seed, not batching, decides
    assert main(["sample", str(run_dir), "-n", "7", "-o", str(tmp_path / "u.npz"), "--seed", "4"]) == 0
    assert not np.array_equal(np.load(tmp_path / "u.npz")["images"], z["images"])
    assert main(["sample", str(run_dir / "checkpoints" / "step-0000006"), "-n", "3", "-o", str(tmp_path / "dir")]) == 0
    assert len(list((tmp_path / "dir").glob("*.png"))) == 3


def test_resume_via_cli(run_dir, capsys):
    assert main(["train", "--resume", str(run_dir), "--steps", "16", "--quiet"]) == 0
    assert "finished at step 16" in capsys.readouterr().out


def test_load_generator_python_api(run_dir):
    import ganforge

    G = ganforge.load_generator(run_dir)
    assert not G.training and G.z_dim == 16 and G.img_shape == (1, 8, 8)


def test_config_file_overrides(tmp_path, capsys):
    (tmp_path / "c.toml").write_text("[model]\nz_dim = 8\n[train]\nsteps = 4\n")
    assert main(["train", "--preset", "digits-mlp", "--config", str(tmp_path / "c.toml"), "--quiet",
                 "--runs-dir", str(tmp_path / "r")]) == 0
    cfg = json.loads((tmp_path / "r" / "001-digits-mlp" / "config.json").read_text())
    assert cfg["model"]["z_dim"] == 8 and cfg["train"]["steps"] == 4


def test_presets_lists_names(capsys):
    assert main(["presets"]) == 0
    assert "mnist-mlp" in capsys.readouterr().out
    assert main(["presets", "mnist-mlp"]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 2)[2])["name"] == "mnist-mlp"


@pytest.mark.parametrize("argv, needle", [
    (["train", "--preset", "nope"], "unknown preset 'nope'; valid choices:"),
    (["train", "--preset", "digits-mlp", "--set", "train.stepz=3"], "unknown config key"),
    (["train", "--preset", "digits-mlp", "--set", "loss.penalty=gp", "--set", "loss.clip=0.01"], "use one"),
    (["train", "--preset", "digits-mlp", "--set", "model.noise=cauchy"], "model.noise='cauchy' is not valid"),
    (["train", "--preset", "digits-mlp", "--set", "train.steps=abc"], "expects int"),
    (["train", "--preset", "digits-mlp", "--dataset", "/nonexistent/x.npz"], "does not exist"),
    (["train", "--preset", "digits-mlp", "--config", "/nonexistent.toml"], "does not exist"),
    (["train", "--resume", "/nonexistent/run"], "not a run directory"),
    (["sample", "/nonexistent/run", "-o", "x.png"], "does not exist"),
    (["train", "--preset", "digits-mlp", "--set", "loss.d_loss=bce", "--set", "loss.clip=0.01"], "weight clipping"),
])
def test_user_errors_exit_2_with_one_line(argv, needle, capsys, tmp_path):
    assert main(argv + ["--runs-dir", str(tmp_path)] if argv[0] == "train" else argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    assert needle in err
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_sample_errors(run_dir, capsys, tmp_path):
    assert main(["sample", str(run_dir), "-o", str(tmp_path / "x.jpg")]) == 2
    assert "use a .png" in capsys.readouterr().err
    assert main(["sample", str(run_dir), "--class", "3", "-o", str(tmp_path / "x.png")]) == 2
    assert "unconditional" in capsys.readouterr().err
    (run_dir / "checkpoints" / "step-0000012" / "model.safetensors").write_bytes(b"corrupt")
    assert main(["sample", str(run_dir), "-o", str(tmp_path / "y.png")]) == 2
    assert "corrupt" in capsys.readouterr().err
    assert not (tmp_path / "y.png").exists()
