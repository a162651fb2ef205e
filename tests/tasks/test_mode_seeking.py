"""The mode-seeking term (Mao et al. 2019, MSGAN; ``task.loss.mode_seeking``): its pairs, its
value, the direction of its gradient, and where the GAN step adds it."""

import copy

import pytest
import torch
import torch.nn.functional as F

from ganforge.config import Config, DataConfig, GANConfig, LossConfig, ModelConfig, OptimConfig
from ganforge.data.batches import DeviceBatcher, Feed, to_model_range
from ganforge.data.training import DataSpec
from ganforge.errors import ConfigError
from ganforge.losses.diversity import EPS, mode_seeking_term, same_label_pairs
from ganforge.tasks.gan import GANTask


def _pairs(a, b):
    return sorted(zip(a.tolist(), b.tolist()))


def test_pairs_share_a_label_are_disjoint_and_in_batch_order():
    y = torch.tensor([3, 1, 3, 1, 3, 2, 1, 1])
    a, b = same_label_pairs(y, len(y))
    # class 1 at 1, 3, 6, 7 -> (1, 3), (6, 7); class 3 at 0, 2, 4 -> (0, 2), 4 left over; class 2 alone
    assert _pairs(a, b) == [(0, 2), (1, 3), (6, 7)]


def test_unconditional_pairs_are_the_two_halves():
    a, b = same_label_pairs(None, 5)
    assert _pairs(a, b) == [(0, 2), (1, 3)]


def test_term_is_one_over_the_ratio_of_mean_absolute_differences():
    torch.manual_seed(0)
    fake, z = torch.randn(4, 1, 2, 2), torch.randn(4, 3)
    y = torch.tensor([0, 1, 0, 1])  # pairs (0, 2) and (1, 3)
    images = ((fake[0] - fake[2]).abs().sum() + (fake[1] - fake[3]).abs().sum()) / (2 * 4)
    codes = ((z[0] - z[2]).abs().sum() + (z[1] - z[3]).abs().sum()) / (2 * 3)
    want = 1.0 / (images / codes + EPS)
    torch.testing.assert_close(mode_seeking_term(fake, z, y), want)


def test_collapsed_pair_is_penalised_and_the_gradient_pushes_the_images_apart():
    z = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    same = torch.zeros(2, 1, 2, 2, requires_grad=True)
    assert mode_seeking_term(same, z, torch.tensor([5, 5])).item() == pytest.approx(1 / EPS)
    fake = torch.stack([torch.zeros(1, 2, 2), torch.full((1, 2, 2), 0.5)]).requires_grad_(True)
    term = mode_seeking_term(fake, z, torch.tensor([5, 5]))
    assert term.item() == pytest.approx(1 / (0.5 / 1.0 + EPS))
    term.backward()
    # descending the term moves the first image down and the second up: further apart
    assert (fake.grad[0] > 0).all() and (fake.grad[1] < 0).all()


def test_no_pair_gives_zero():
    fake = torch.randn(3, 1, 2, 2, requires_grad=True)
    term = mode_seeking_term(fake, torch.randn(3, 2), torch.tensor([0, 1, 2]))
    assert term.item() == 0.0


SHAPE = (1, 4, 4)


def _task(ms: float) -> GANTask:
    cfg = Config(
        data=DataConfig(dataset="digits"),
        model=ModelConfig(z_dim=3, g_hidden=(8,), d_hidden=(8,), d_dropout=0.0, g_batchnorm=False),
        task=GANConfig(g_optim=OptimConfig("sgd", 0.1), d_optim=OptimConfig("sgd", 0.1), reuse_fake=True,
                       loss=LossConfig(mode_seeking=ms)),
    ).override({"train.steps": 10, "train.batch_size": 4})
    torch.manual_seed(0)
    return GANTask(cfg, DataSpec(SHAPE, 0, True), torch.device("cpu"))


def _feed() -> Feed:
    x = (torch.arange(6 * 16, dtype=torch.float32).reshape(6, *SHAPE) * 2.6).to(torch.uint8)
    return Feed(DeviceBatcher(x, None, 4, seed=0), 4, noise_seed=1)


def test_the_g_step_adds_lambda_times_the_term():
    """One reuse_fake step with λ = 2 equals the textbook step whose G loss gains 2 × the term
    on the halves of the batch; D's update is untouched."""
    task = _task(2.0)
    G, D = copy.deepcopy(task.G), copy.deepcopy(task.D)
    stats = task.step(_feed(), 0)
    twin = _feed()
    real, _ = twin.batch()
    z = twin.z(3)
    real = to_model_range(real, "tanh")
    opt_d, opt_g = torch.optim.SGD(D.parameters(), lr=0.1), torch.optim.SGD(G.parameters(), lr=0.1)
    fake = G(z)
    ones, zeros = torch.ones(4), torch.zeros(4)
    d_loss = F.binary_cross_entropy_with_logits(D(real), ones) + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros)
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    ratio = (fake[:2] - fake[2:]).abs().mean() / (z[:2] - z[2:]).abs().mean()
    adversarial = F.binary_cross_entropy_with_logits(D(fake), ones)
    g_loss = adversarial + 2.0 / (ratio + EPS)
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    for a, b in zip(list(G.parameters()) + list(D.parameters()), list(task.G.parameters()) + list(task.D.parameters())):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(stats["g_loss"], adversarial.detach())  # the logged G loss stays the adversarial part
    torch.testing.assert_close(stats["mode_seeking"], 1.0 / (ratio.detach() + EPS))


def test_off_by_default_and_not_logged():
    assert LossConfig().mode_seeking == 0.0
    assert "mode_seeking" not in _task(0.0).step(_feed(), 0)


def test_negative_lambda_is_refused_and_set_reaches_it():
    with pytest.raises(ConfigError, match=r"loss\.mode_seeking"):
        LossConfig(mode_seeking=-1.0)
    assert Config().override({"task.loss.mode_seeking": 1.0}).task.loss.mode_seeking == 1.0
