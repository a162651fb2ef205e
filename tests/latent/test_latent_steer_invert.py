import numpy as np
import pytest
import torch
from torch import nn

from ganforge.latent.invert import invert
from ganforge.latent.sources import Classifier
from ganforge.latent.steer import class_log_prob, steer, steer_report
from ganforge.models.mlp import MLPGenerator


def _digits_classifier() -> Classifier:
    """A multinomial logistic regression on 8×8 digits pixels (in [-1,1]), as a torch module."""
    from sklearn.linear_model import LogisticRegression

    from ganforge.latent.splits import labelled_split

    xtr, ytr, _, _ = labelled_split("digits")
    X = xtr.reshape(len(xtr), -1) / 127.5 - 1
    lr = LogisticRegression(max_iter=300).fit(X, ytr)
    lin = nn.Linear(64, 10)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(lr.coef_).float())
        lin.bias.copy_(torch.from_numpy(lr.intercept_).float())
    model = nn.Sequential(nn.Flatten(), lin).eval().requires_grad_(False)
    return Classifier(model, (1, 8, 8), 10, "test logistic regression")


def test_inversion_recovers_an_image_G_made():
    torch.manual_seed(0)
    G = MLPGenerator(8, (1, 8, 8), (32,)).eval()
    z_true = torch.randn(3, 8, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        x = G(z_true)
    inv = invert(G, x, steps=200, lr=0.05, restarts=3, seed=1)
    assert inv.z.shape == (3, 8) and inv.reconstruction.shape == x.shape
    assert float(inv.mse.max()) < 1e-3  # images in [-1,1]: an RMS error below 0.032
    # a random image G did not make stays far away
    other = torch.rand(1, 1, 8, 8) * 2 - 1
    assert float(invert(G, other, steps=100, restarts=2).mse[0]) > 10 * float(inv.mse.max())
    assert all(p.requires_grad for p in G.parameters())  # G unfrozen afterwards, weights untouched


def test_steering_raises_target_probability(digits_gan):
    from ganforge.latent.sources import load_gan_generator

    G = load_gan_generator(digits_gan, "steer")
    clf = _digits_classifier()
    z = torch.randn(32, G.z_dim, generator=torch.Generator().manual_seed(0))
    before = [p.clone() for p in G.parameters()]
    res = steer(G, class_log_prob(clf, 3), z, steps=60, lr=0.1, prior_weight=0.05)
    rep = steer_report(res, clf, 3)
    assert rep.mean_log_prob_after > rep.mean_log_prob_before + 1.0
    assert rep.success_after > rep.success_before and rep.success_after >= 0.5
    assert rep.mean_distance > 0 and 0 < rep.mean_image_change < 1
    assert all(torch.equal(a, b) for a, b in zip(before, G.parameters()))  # G untouched


def test_prior_weight_limits_the_drift():
    torch.manual_seed(0)
    G = MLPGenerator(16, (1, 8, 8), (32,)).eval()
    w = torch.randn(1, 1, 8, 8)
    scorer = lambda x: (x * w).flatten(1).sum(1)  # noqa: E731 -- unbounded: more is always better
    z = torch.randn(16, 16, generator=torch.Generator().manual_seed(1))
    drift = {}
    for pw in (0.0, 0.3, 3.0):
        res = steer(G, scorer, z, steps=80, lr=0.2, prior_weight=pw)
        drift[pw] = float((res.z.norm(dim=1) - res.z0.norm(dim=1)).mean())
        assert float(res.score.mean()) > float(res.score0.mean()) or pw == 3.0
    assert drift[0.0] > drift[0.3] > drift[3.0]
    assert drift[0.0] > 2.0  # unconstrained ascent runs off the N(0, I) shell


@pytest.mark.parametrize("prior", ["shell", "gaussian"])
def test_prior_alone_pulls_z_to_where_N01_is(prior):
    G = MLPGenerator(50, (1, 8, 8), (8,)).eval()
    z = torch.randn(8, 50, generator=torch.Generator().manual_seed(0)) * 3  # far outside the shell
    res = steer(G, lambda x: torch.zeros(len(x)), z, steps=300, lr=0.1, prior_weight=1.0, prior=prior)
    target = 7.0 if prior == "shell" else 0.0  # sqrt(d - 1) = 7: the mode of |z| under N(0, I)
    assert torch.allclose(res.z.norm(dim=1), torch.full((8,), target), atol=0.05)
    cos = torch.nn.functional.cosine_similarity(res.z, res.z0, dim=1)
    if prior == "shell":
        assert cos.min() > 0.999  # only the norm moved, not the direction


def test_steer_with_zero_steps_is_identity():
    G = MLPGenerator(4, (1, 8, 8), (8,)).eval()
    z = torch.randn(2, 4)
    res = steer(G, lambda x: x.sum((1, 2, 3)), z, steps=0)
    assert torch.equal(res.z, res.z0) and torch.equal(res.x, res.x0)
