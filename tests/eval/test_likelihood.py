"""One likelihood scale: discretised and Bernoulli likelihoods that are distributions, the
IWAE bound (>= the ELBO, rising with k), and `ganforge evaluate --nll` on a PixelCNN, a VAE
and a GAN (which gets a sentence, not a number)."""

import json
import math

import numpy as np
import pytest
import torch

from ganforge.cli import main
from ganforge.data.arrays import load_digits8
from ganforge.eval.likelihood import (
    _load_vae, bernoulli_log_prob, binarise_test_set, discretised_gaussian_log_prob, vae_nll,
)
from ganforge.presets import preset_config
from ganforge.training import train


@pytest.mark.parametrize("mean, sigma", [(-1.0, 0.02), (0.3, 0.1), (0.999, 1.0), (4.0, 0.05)])
def test_the_discretised_gaussian_is_a_distribution_over_the_256_values(mean, sigma):
    levels = torch.arange(256).view(256, 1)
    logp = discretised_gaussian_log_prob(torch.full((256, 1), mean), levels, sigma)
    assert abs(float(logp.exp().sum()) - 1) < 1e-12
    assert torch.isfinite(logp).all()  # far-tail bins keep a log-probability (no log 0)


def test_bernoulli_log_prob_by_hand():
    mean = torch.tensor([[0.0, 0.5]])  # p = 0.5 and 0.75
    bits = torch.tensor([[1, 0]])
    assert abs(float(bernoulli_log_prob(mean, bits)) - (math.log(0.5) + math.log(0.25))) < 1e-12


def test_the_binarised_test_set_is_one_fixed_draw():
    x = torch.from_numpy(load_digits8()[0][:100, None])
    a, b = binarise_test_set(x, "dynamic"), binarise_test_set(x, "dynamic")
    assert torch.equal(a, b) and set(a.unique().tolist()) <= {0, 1}
    assert torch.equal(binarise_test_set(x, "threshold"), (x >= 128).long())


@pytest.fixture
def vae_run(tiny_cfg, tmp_path):
    cfg = tiny_cfg.override({"kind": "vae", "model.z_dim": 4, "g_optim.lr": 3e-3, "g_optim.betas": [0.9, 0.999],
                             "train.steps": 60})
    return train(cfg, runs_root=tmp_path / "vae", quiet=True).run_dir


def test_the_iwae_bound_is_at_least_the_elbo_and_rises_with_k(vae_run):
    _, E, decoder = _load_vae(vae_run, "cpu")
    x = torch.from_numpy(load_digits8()[0][:200, None])
    for data in ("8-bit", "binarised"):
        bound = {k: float(vae_nll(E, decoder, x, None, data, k, sigma=0.2, seed=1).mean()) for k in (1, 5, 50)}
        # NLL bounds: the IWAE bound on -log p(x) falls (log p(x) bound rises) as k grows
        assert bound[1] > bound[5] > bound[50], (data, bound)
        assert bound[1] - bound[50] > 0.1, (data, bound)


def test_iwae_with_one_sample_is_the_monte_carlo_elbo(vae_run):
    """k = 1: log p(x|z) + log p(z) - log q(z|x) at one z ~ q, averaged: the ELBO (whose
    analytic-KL form the VAE trains on) up to Monte Carlo noise."""
    from ganforge.losses.vae import gaussian_kl
    from ganforge.data.batches import to_model_range

    _, E, decoder = _load_vae(vae_run, "cpu")
    x8 = torch.from_numpy(load_digits8()[0][:300, None])
    x = to_model_range(x8, "tanh")
    with torch.no_grad():
        mu, logvar = E(x)
        # the ELBO on binarised pixels, the KL term in closed form and the likelihood at 20 draws of z
        bits = binarise_test_set(x8, "dynamic")
        recon = torch.stack([-bernoulli_log_prob(decoder(mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)), bits)
                             for _ in range(20)]).mean(0)
        elbo_nll = (recon + gaussian_kl(mu, logvar).double()).mean()
    k1 = vae_nll(E, decoder, x8, None, "binarised", 1, seed=3).mean()
    assert abs(float(k1 - elbo_nll)) < 0.02 * float(elbo_nll)


def _digits_ref(tmp_path):
    x, y = load_digits8()
    np.savez(tmp_path / "ref.npz", images=x[:200], labels=y[:200])
    return str(tmp_path / "ref.npz")


def test_evaluate_nll_on_a_pixelcnn_a_vae_and_a_gan(vae_run, tiny_cfg, tmp_path, capsys):
    pcnn = preset_config("digits-mlp").override({
        "kind": "pixelcnn", "train.steps": 20, "train.log_every": 10, "train.sample_every": 20,
        "train.checkpoint_every": 20, "train.batch_size": 16, "task.channels": 8, "task.layers": 2, "task.head": 16,
        "task.first_kernel": 3})
    prun = train(pcnn, runs_root=tmp_path / "p", quiet=True).run_dir
    gan = train(tiny_cfg, runs_root=tmp_path / "g", quiet=True).run_dir
    out = tmp_path / "nll.json"
    assert main(["evaluate", str(prun), str(vae_run), str(gan), "--nll", "--ref", _digits_ref(tmp_path),
                 "--iwae-k", "5", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    rows = json.loads(out.read_text())["nll"]
    assert [(r["kind"], r["data"]) for r in rows] == [("pixelcnn", "8-bit"), ("vae", "8-bit"), ("vae", "binarised"),
                                                       ("gan", "-")]
    p, v8, vb, g = rows
    assert p["estimator"] == "exact" and p["n"] == 200 and 4 < p["bits_per_dim"] < 8.1
    assert abs(p["nats"] - p["bits_per_dim"] * 64 * math.log(2)) < 1e-6
    assert v8["estimator"] == "IWAE bound, k=5" and "discretised Gaussian" in v8["protocol"]["likelihood"]
    assert 0 < vb["nats"] < 64 * math.log(2) * 1.5 and "seed 0" in vb["protocol"]["data"]
    assert g["nats"] is None and g["bits_per_dim"] is None and "no likelihood" in g["note"]
    assert "no likelihood" in printed and "bits/dim" in printed


def test_nll_refuses_bad_k_and_a_dataset_without_test_split(vae_run, capsys, tmp_path):
    # a source that is no run is refused before the others are scored
    assert main(["evaluate", str(vae_run), str(tmp_path), "--nll", "--ref", _digits_ref(tmp_path)]) == 2
    err = capsys.readouterr()
    assert "no checkpoint" in err.err and err.out == ""
    assert main(["evaluate", str(vae_run), "--nll", "--iwae-k", "0"]) == 2
    assert "--iwae-k" in capsys.readouterr().err
    assert main(["evaluate", str(vae_run), "--nll"]) == 2  # trained on digits: no test split known
    assert "--ref" in capsys.readouterr().err
