"""The GAN options of issue 20: instance noise (its schedule and where it is added) and
``reuse_fake`` (one G forward per step, the PyTorch DCGAN example's maths)."""

import copy

import pytest
import torch
import torch.nn.functional as F

from ganforge.config import Config, DataConfig, GANConfig, LossConfig, ModelConfig, OptimConfig
from ganforge.data.batches import DeviceBatcher, Feed, to_model_range
from ganforge.data.training import DataSpec
from ganforge.errors import ConfigError
from ganforge.losses.diversity import EPS
from ganforge.tasks.gan import GANTask

SHAPE = (1, 4, 4)


def _cfg(**task) -> Config:
    return Config(
        data=DataConfig(dataset="digits"),
        model=ModelConfig(z_dim=3, g_hidden=(8,), d_hidden=(8,), d_dropout=0.0, g_batchnorm=False),
        task=GANConfig(g_optim=OptimConfig("sgd", 0.1), d_optim=OptimConfig("sgd", 0.1), **task),
    ).override({"train.steps": 10, "train.batch_size": 4})


def _feed(seed: int = 0) -> Feed:
    x = (torch.arange(6 * 16, dtype=torch.float32).reshape(6, *SHAPE) * 2.6).to(torch.uint8)
    return Feed(DeviceBatcher(x, None, 4, seed=seed), 4, noise_seed=seed + 1)


def _task(cfg: Config) -> GANTask:
    torch.manual_seed(0)
    return GANTask(cfg, DataSpec(SHAPE, 0, True), torch.device("cpu"))


@pytest.mark.parametrize("step, want", [(0, 0.5), (25, 0.375), (50, 0.25), (100, 0.0), (150, 0.0)])
def test_instance_noise_sd_falls_linearly_to_zero(step, want):
    assert GANConfig(instance_noise=0.5, instance_noise_steps=100).instance_noise_sd(step, 10_000) == pytest.approx(want)


def test_instance_noise_spans_the_run_by_default():
    t = GANConfig(instance_noise=0.2)
    assert t.instance_noise_sd(500, 1000) == pytest.approx(0.1)
    assert GANConfig().instance_noise_sd(0, 1000) == 0.0


def test_instance_noise_is_added_to_every_image_d_sees():
    """D's inputs are real + σε and fake + σε in the D step and fake + σε in the G step,
    with ε the feed's next standard-normal draws, in that order."""
    sd = 0.7
    task = _task(_cfg(instance_noise=sd, instance_noise_steps=1000))
    seen = []
    task.D.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach().clone()))
    feed, twin = _feed(), _feed()
    task.step(feed, 0)
    # Replay the feed's draws: real batch, z, ε(real), ε(fake), then z for G and ε(G's fake).
    real, _ = twin.batch()
    z_d = twin.z(3)
    eps = [twin.normal(SHAPE), twin.normal(SHAPE)]
    z_g = twin.z(3)
    eps_g = twin.normal(SHAPE)
    real_in = to_model_range(real, "tanh") + sd * eps[0]
    d_in = seen[0]  # joint forward over [real; fake] (no BatchNorm in D)
    torch.testing.assert_close(d_in[:4], real_in)
    g0 = _task(_cfg(instance_noise=sd, instance_noise_steps=1000)).G
    with torch.no_grad():
        fake_d = g0(z_d)
        torch.testing.assert_close(d_in[4:], fake_d + sd * eps[1])
    # the G step's fake comes from the updated G (G is not updated by the D step)
    with torch.no_grad():
        torch.testing.assert_close(seen[1], g0(z_g) + sd * eps_g)


def test_without_instance_noise_the_feed_draws_nothing_extra():
    task = _task(_cfg())
    feed, twin = _feed(), _feed()
    task.step(feed, 0)
    twin.batch(), twin.z(3), twin.z(3)
    assert torch.equal(feed.noise_gen.get_state(), twin.noise_gen.get_state())


def textbook_step(G, D, twin: Feed, g_extra=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The PyTorch DCGAN example's step by hand on the twin feed's batch and z (SGD 0.1): D on
    real and G(z).detach(), then G through D on the same G(z), its loss plus ``g_extra(fake, z)``.
    Returns G's adversarial loss, the fakes and z."""
    real, _ = twin.batch()
    z = twin.z(3)
    real = to_model_range(real, "tanh")
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
    fake = G(z)
    ones, zeros = torch.ones(4), torch.zeros(4)
    d_loss = F.binary_cross_entropy_with_logits(D(real), ones) + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros)
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    adversarial = F.binary_cross_entropy_with_logits(D(fake), ones)
    g_loss = adversarial if g_extra is None else adversarial + g_extra(fake, z)
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    return adversarial.detach(), fake.detach(), z


def assert_same_weights(task: GANTask, G, D) -> None:
    for a, b in zip(list(G.parameters()) + list(D.parameters()), list(task.G.parameters()) + list(task.D.parameters())):
        torch.testing.assert_close(a, b)


def test_reuse_fake_is_the_pytorch_dcgan_example_step():
    """One step with task.reuse_fake equals the textbook step on the same z: D on real and
    G(z).detach(), then G through D on the same G(z)."""
    cfg = _cfg(reuse_fake=True)
    task = _task(cfg)
    G, D = copy.deepcopy(task.G), copy.deepcopy(task.D)
    forwards = []
    task.G.register_forward_hook(lambda *a: forwards.append(1))
    task.step(_feed(), 0)
    assert len(forwards) == 1
    textbook_step(G, D, _feed())
    assert_same_weights(task, G, D)


def test_mode_seeking_adds_lambda_times_the_term_to_g_loss():
    """With task.loss.mode_seeking = 2 the step is the textbook step whose G loss gains 2 / (ratio
    + eps) over the batch's two halves (unconditional pairs); D's update is untouched, and the
    logged G loss stays the adversarial part."""
    task = _task(_cfg(reuse_fake=True, loss=LossConfig(mode_seeking=2.0)))
    G, D = copy.deepcopy(task.G), copy.deepcopy(task.D)
    stats = task.step(_feed(), 0)

    def ratio(fake, z):
        return (fake[:2] - fake[2:]).abs().mean() / (z[:2] - z[2:]).abs().mean()
    adversarial, fake, z = textbook_step(G, D, _feed(), lambda fake, z: 2.0 / (ratio(fake, z) + EPS))
    assert_same_weights(task, G, D)
    torch.testing.assert_close(stats["g_loss"], adversarial)
    torch.testing.assert_close(stats["mode_seeking"], 1.0 / (ratio(fake, z) + EPS))


def test_mode_seeking_is_off_by_default_and_not_logged():
    assert LossConfig().mode_seeking == 0.0
    assert "mode_seeking" not in _task(_cfg(reuse_fake=True)).step(_feed(), 0)


def test_relativistic_step_is_rasgan_by_hand():
    """One step with the relativistic pair: D on C(x) − mean C(G(z)) and C(G(z)) − mean C(x), then G on
    the swapped pair with the real batch scored again by the updated D (Jolicoeur-Martineau 2018)."""
    task = _task(_cfg(reuse_fake=True, loss=LossConfig(d_loss="relativistic", g_loss="relativistic")))
    G, D = copy.deepcopy(task.G), copy.deepcopy(task.D)
    stats = task.step(_feed(), 0)
    twin = _feed()
    real, _ = twin.batch()
    z = twin.z(3)
    real = to_model_range(real, "tanh")
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
    bce = F.binary_cross_entropy_with_logits
    fake = G(z)
    r, f = D(real), D(fake.detach())
    d_loss = bce(r - f.mean(), torch.ones(4)) + bce(f - r.mean(), torch.zeros(4))
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    with torch.no_grad():
        r = D(real)
    f = D(fake)
    g_loss = bce(f - r.mean(), torch.ones(4)) + bce(r - f.mean(), torch.zeros(4))
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    assert_same_weights(task, G, D)
    torch.testing.assert_close(stats["d_loss"], d_loss.detach())
    torch.testing.assert_close(stats["g_loss"], g_loss.detach())


def test_without_reuse_g_step_draws_fresh_z():
    task = _task(_cfg())
    forwards = []
    task.G.register_forward_hook(lambda *a: forwards.append(1))
    task.step(_feed(), 0)
    assert len(forwards) == 2


@pytest.mark.parametrize("bad, words", [
    (dict(reuse_fake=True, d_steps=5), "task.d_steps=1"),
    (dict(reuse_fake=True, d_steps_boost=100), "task.d_steps_boost=0"),
    (dict(instance_noise=-0.1), "task.instance_noise"),
    (dict(instance_noise=float("nan")), "task.instance_noise"),
])
def test_bad_option_values_are_refused(bad, words):
    with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
        GANConfig(**bad)


def test_options_are_reachable_with_set():
    cfg = Config().override({"task.instance_noise": 0.1, "task.reuse_fake": True, "loss.label_smoothing": 0.1})
    assert cfg.task.instance_noise == 0.1 and cfg.task.reuse_fake and cfg.task.loss == LossConfig(label_smoothing=0.1)
