"""The VAE baseline: closed-form KL, a decreasing negative ELBO, and the GAN-like life
cycle (checkpoint, resume, sample)."""

import json
import math

import numpy as np
import torch

from ganforge.cli import main
from ganforge.losses.vae import bernoulli_nll, gaussian_kl, gaussian_nll
from ganforge.sampling import generate, load_generator
from ganforge.training import train


def test_kl_matches_closed_form():
    mu = torch.tensor([[0.5, -1.0], [0.0, 0.0]])
    logvar = torch.tensor([[math.log(2.0), 0.0], [0.0, 0.0]])
    # KL(N(0.5, 2)||N(0,1)) = ½(0.25 + 2 - ln 2 - 1); KL(N(-1,1)||N(0,1)) = ½
    expected0 = 0.5 * (0.25 + 2 - math.log(2) - 1) + 0.5
    assert torch.allclose(gaussian_kl(mu, logvar), torch.tensor([expected0, 0.0]), atol=1e-6)


def test_likelihoods_against_hand_values():
    x = torch.tensor([[1.0, -1.0]])  # intensities 1 and 0
    logits = torch.tensor([[0.0, 0.0]])
    assert torch.allclose(bernoulli_nll(logits, x), torch.tensor([2 * math.log(2)]))
    nll = gaussian_nll(torch.zeros(1, 2), x, sigma=1.0)
    assert torch.allclose(nll, torch.tensor([0.5 * 2 + 2 * 0.5 * math.log(2 * math.pi)]))


def _vae_cfg(tiny_cfg):
    return tiny_cfg.override({"kind": "vae", "model.z_dim": 4, "g_optim.lr": 3e-3, "g_optim.betas": [0.9, 0.999]})


def test_negative_elbo_decreases_on_digits(tiny_cfg, tmp_path):
    r = train(_vae_cfg(tiny_cfg).override({"train.steps": 60}), runs_root=tmp_path, quiet=True)
    rows = [json.loads(l) for l in (r.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert {"elbo", "recon", "kl"} <= rows[0].keys()
    assert rows[-1]["loss"] < rows[0]["loss"] - 3  # nats per image
    assert r.grid.exists()


def test_vae_resumes_bit_exactly_and_samples(tiny_cfg, tmp_path):
    cfg = _vae_cfg(tiny_cfg)
    full = train(cfg, runs_root=tmp_path / "a", quiet=True)
    half = train(cfg.override({"train.steps": 10}), runs_root=tmp_path / "b", quiet=True)
    train(cfg, resume=half.run_dir, quiet=True)
    Ga, Gb = load_generator(full.run_dir), load_generator(half.run_dir)
    assert Ga.kind == "vae" and Ga.z_dim == 4
    a, _ = generate(Ga, 6, seed=1)
    b, _ = generate(Gb, 6, seed=1)
    assert a.shape == (6, 8, 8) and a.dtype == np.uint8 and np.array_equal(a, b)
    assert main(["sample", str(full.run_dir), "-n", "5", "-o", str(tmp_path / "v.npz")]) == 0
    assert np.load(tmp_path / "v.npz")["images"].shape == (5, 8, 8)


def test_conv_vae_builds_and_trains(tiny_cfg, tmp_path):
    cfg = _vae_cfg(tiny_cfg).override({"vae.encoder": "conv", "model.width": 8, "train.steps": 4,
                                       "vae.likelihood": "gaussian"})
    r = train(cfg, runs_root=tmp_path, quiet=True)
    assert load_generator(r.run_dir)(torch.randn(2, 4)).shape == (2, 1, 8, 8)


def test_evaluate_works_on_a_vae_run(tiny_cfg, tmp_path, capsys):
    from ganforge.data.arrays import load_digits8

    run = train(_vae_cfg(tiny_cfg), runs_root=tmp_path, quiet=True).run_dir
    x, _ = load_digits8()
    np.savez(tmp_path / "ref.npz", images=x[:400])
    np.savez(tmp_path / "train.npz", images=x[400:])
    out = tmp_path / "e.json"
    assert main(["evaluate", str(run), "--ref", str(tmp_path / "ref.npz"), "--train", str(tmp_path / "train.npz"),
                 "-n", "100", "--bootstrap", "0", "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert 0.5 <= rep["metrics"]["c2st_pixels"]["value"] <= 1.0 and "copy_rate" in rep["metrics"]
