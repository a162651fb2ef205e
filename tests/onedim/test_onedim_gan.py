"""The 1-D GAN: trained by the shared training loop on an in-memory standardised column."""

import json

import numpy as np
import pytest

from ganforge.cli import main


def test_gan_learns_location_and_scale(tmp_path):
    from ganforge.onedim.gan import fit_gan

    x = np.random.default_rng(0).normal(170.0, 8.0, 500)
    g = fit_gan(x, steps=400, seed=0, runs_root=tmp_path)
    s = g.sample(2000, seed=1)
    assert abs(s.mean() - 170.0) < 4.0 and 4.0 < s.std() < 12.0  # un-standardised back to the data's units
    assert np.array_equal(s, g.sample(2000, seed=1))
    assert (tmp_path / g.run_dir.split("/")[-1] / "config.json").exists()  # same run layout as the image GAN


def test_cli_method_gan(tmp_path, capsys):
    path = tmp_path / "x.csv"
    path.write_text("v\n" + "\n".join(f"{v:.3f}" for v in np.random.default_rng(1).normal(0, 1, 60)))
    out = tmp_path / "gan.csv"
    assert main(["fit", str(path), "--method", "gan", "--gan-steps", "60", "--families", "normal", "--n-mc", "0",
                 "--sample", "30", "-o", str(out), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)["groups"][0]
    assert d["gan"]["steps"] == 60 and d["sampled_from"] == "gan"
    assert 0.0 <= d["gan"]["compare"]["c2st"]["accuracy"] <= 1.0
    assert len(out.read_text().splitlines()) == 31
    assert main(["fit", str(path), "--method", "gan", "--gan-steps", "0"]) == 2
