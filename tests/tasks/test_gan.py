"""The GAN task: the freezing contract of its D and G steps (the lecture's alternating
minimisation), its compatibility checks, and its family-only health check."""

import pytest
import torch

from ganforge.config import LossConfig, OptimConfig
from ganforge.models import MLPDiscriminator, MLPGenerator
from ganforge.optim import make_optimizer
from ganforge.tasks.gan import Objective, d_step, frozen, g_step


def _nets():
    torch.manual_seed(0)
    G = MLPGenerator(4, (1, 3, 3), hidden=(8,))
    D = MLPDiscriminator((1, 3, 3), hidden=(8,), dropout=0.0)
    return G, D


def _snap(m):
    return [p.detach().clone() for p in m.parameters()]


def test_g_step_leaves_d_untouched_and_restores_requires_grad():
    G, D = _nets()
    obj = Objective.from_config(LossConfig())
    opt_g = make_optimizer(G.parameters(), OptimConfig())
    d_before, g_before = _snap(D), _snap(G)
    g_step(G, D, opt_g, torch.randn(5, 4), None, obj)
    assert all(torch.equal(a, b) for a, b in zip(d_before, D.parameters()))
    assert all(p.grad is None for p in D.parameters())  # no gradient even accumulated in D
    assert any(not torch.equal(a, b) for a, b in zip(g_before, G.parameters()))
    assert all(p.requires_grad for p in D.parameters())


def test_d_step_leaves_g_untouched():
    G, D = _nets()
    obj = Objective.from_config(LossConfig())
    opt_d = make_optimizer(D.parameters(), OptimConfig("sgd", 0.1))
    d_before, g_before = _snap(D), _snap(G)
    stats = d_step(G, D, opt_d, torch.rand(5, 1, 3, 3) * 2 - 1, None, torch.randn(5, 4), obj)
    assert all(torch.equal(a, b) for a, b in zip(g_before, G.parameters()))
    assert all(p.grad is None for p in G.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(d_before, D.parameters()))
    assert 0 < stats["d_real"] < 1 and 0 < stats["d_fake"] < 1


def test_frozen_restores_on_error():
    _, D = _nets()
    with pytest.raises(RuntimeError):
        with frozen(D):
            raise RuntimeError
    assert all(p.requires_grad for p in D.parameters())


def _task(cfg, shape=(1, 8, 8), k=0):
    from ganforge.data.training import DataSpec
    from ganforge.tasks.gan import GANTask

    return GANTask(cfg, DataSpec(shape, k, True), torch.device("cpu"))


def test_d_wins_warning_fires_once_after_patience_and_only_for_probabilities(tiny_cfg):
    task = _task(tiny_cfg.override({"train.d_wins_patience": 3}))  # the key of release 0.1 still works
    assert task.t.d_wins_patience == 3
    winning = {"d_fake": 0.001}
    assert task.health(winning, 1) == [] and task.health({"d_fake": 0.5}, 2) == []  # the streak restarts
    assert [task.health(winning, s) for s in (3, 4)] == [[], []]
    (msg,) = task.health(winning, 5)
    assert "D(G(z)) < 0.01 for 3 log windows up to step 5" in msg
    assert task.health(winning, 6) == []  # once per run
    critic = _task(tiny_cfg.override({"loss.d_loss": "wasserstein", "loss.g_loss": "wasserstein", "loss.clip": 0.01,
                                      "train.d_wins_patience": 1}))
    assert critic.health({"d_fake": -5.0}, 1) == []  # critic scores are not probabilities


@pytest.mark.parametrize("sets, message", [
    ({"loss.penalty": "gp", "model.d_batchnorm": True}, "BatchNorm in the critic"),
    ({"loss.d_loss": "wasserstein", "loss.g_loss": "wasserstein"}, "Lipschitz"),
    ({"model.projection": True}, "conditional discriminator"),
    ({"model.discriminator": "dcgan", "model.pack": 3}, "train.batch_size to a multiple"),
])
def test_incompatible_options_are_refused_at_construction(tiny_cfg, tmp_path, sets, message):
    from ganforge.errors import ConfigError
    from ganforge.training import train

    with pytest.raises(ConfigError, match=message):
        train(tiny_cfg.override(sets), runs_root=tmp_path / "runs", quiet=True)
    assert not (tmp_path / "runs").exists()  # refused before the run directory was made


def test_clipping_without_a_critic_is_refused_by_the_config(tiny_cfg):
    from ganforge.errors import ConfigError

    with pytest.raises(ConfigError, match="weight clipping belongs to the Wasserstein critic"):
        tiny_cfg.override({"loss.clip": 0.01})


def test_preview_leaves_training_rng_and_modes_alone(tiny_cfg):
    task = _task(tiny_cfg.override({"model.g_dropout": 0.3}))
    task.train_mode()
    state = torch.get_rng_state()
    imgs, nrow = task.preview()
    assert imgs.shape == (64, 1, 8, 8) and nrow == 8
    assert torch.equal(state, torch.get_rng_state())
    assert task.G.training and task.D.training


@pytest.mark.parametrize("by_label", [False, True])
def test_a_packed_dcgan_d_trains_on_groups_of_the_batch(tiny_cfg, by_label):
    """model.pack=2: every D forward of a step (real, fake, and the G step's fake) scores batch/2 groups of
    two images -- real and fake apart, never one group of both -- and the step's losses are finite
    (what a group's channels are: tests/test_models_family.py); also with the packs sorted by label."""
    cfg = tiny_cfg.override({"model.generator": "dcgan", "model.discriminator": "dcgan", "model.width": 4,
                             "model.d_dropout": 0.0, "model.pack": 2, "data.conditional": True,
                             "model.pack_by_label": by_label})
    task = _task(cfg, k=10)
    seen = []
    task.D.register_forward_hook(lambda m, args, out: seen.append((len(args[0]), len(out))))
    from ganforge.data.batches import DeviceBatcher, Feed
    x, y = torch.randint(0, 256, (32, 1, 8, 8), dtype=torch.uint8), torch.arange(32) % 10
    stats = task.step(Feed(DeviceBatcher(x, y, 16, seed=0), 16, noise_seed=1), 0)
    assert seen == [(16, 8)] * 3
    assert all(torch.isfinite(v) for v in stats.values())


def test_standing_batchnorm_stats_are_the_average_of_g_s_own_batches():
    """BigGAN's standing statistics: each BatchNorm's running mean/var become the plain average of its
    batch mean/var (unbiased, as BatchNorm keeps them) over the batches, z and labels drawn from a
    generator seeded by ``seed``; the global RNG, the momenta and eval mode are left as they were."""
    from ganforge.models.dcgan import DCGANGenerator
    from ganforge.models.noise import sample_z
    from ganforge.tasks.gan import standing_batchnorm_stats

    torch.manual_seed(0)
    G = DCGANGenerator(8, (1, 8, 8), width=4, num_classes=3).eval()
    seen = []
    G.project_bn.register_forward_hook(lambda m, args, out: seen.append(args[0].detach().clone()))
    rng = torch.get_rng_state()
    standing_batchnorm_stats(G, 5, 16, 8, "gaussian", 3, seed=7, device="cpu")
    assert torch.equal(rng, torch.get_rng_state()) and not G.training
    assert all(m.momentum == 0.1 for m in G.modules() if isinstance(m, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d))
    gen = torch.Generator().manual_seed(7)
    for batch in seen:  # the hook saw exactly the seeded draws
        z = sample_z(16, 8, "gaussian", gen, "cpu")
        y = torch.randint(3, (16,), generator=gen)
        torch.testing.assert_close(batch, G.project(torch.cat([z, torch.nn.functional.one_hot(y, 3).float()], 1)))
    assert len(seen) == 5
    torch.testing.assert_close(G.project_bn.running_mean, torch.stack([b.mean(0) for b in seen]).mean(0))
    torch.testing.assert_close(G.project_bn.running_var, torch.stack([b.var(0) for b in seen]).mean(0))


def test_standing_stats_reach_the_checkpointed_ema_and_leave_training_alone(tiny_cfg):
    """task.ema_standing_stats: before a snapshot the EMA's BatchNorm statistics are re-estimated (no
    longer G's), while the training steps, G, D and the EMA's weights stay bit for bit those of a run
    without it (ema_update copies G's statistics over them at the next step)."""
    from ganforge.data.batches import DeviceBatcher, Feed

    cfg = tiny_cfg.override({"task.ema": 0.9, "model.g_batchnorm": True})
    x = torch.randint(0, 256, (64, 1, 8, 8), dtype=torch.uint8)
    runs = {}
    for n in (0, 20):
        torch.manual_seed(0)
        task = _task(cfg.override({"task.ema_standing_stats": n}))
        feed = Feed(DeviceBatcher(x, None, 16, seed=0), 16, noise_seed=1)
        for step in range(4):
            task.step(feed, step)
            if step == 1:
                rng = torch.get_rng_state()
                task.before_snapshot(2)  # as a checkpoint after step 2 would
                assert torch.equal(rng, torch.get_rng_state())
        task.before_snapshot(4)
        runs[n] = task
    plain, standing = runs[0], runs[20]
    for name in ("G", "D", "G_ema"):
        for a, b in zip(plain.modules[name].parameters(), standing.modules[name].parameters()):
            assert torch.equal(a, b), name
    bn = lambda t: [m for m in t.G_ema.modules() if isinstance(m, torch.nn.BatchNorm1d)][0]
    g_bn = [m for m in plain.G.modules() if isinstance(m, torch.nn.BatchNorm1d)][0]
    assert torch.equal(bn(plain).running_mean, g_bn.running_mean)  # copied from G
    assert not torch.allclose(bn(standing).running_mean, g_bn.running_mean)  # re-estimated
    with pytest.raises(Exception, match="task.ema"):
        tiny_cfg.override({"task.ema": 0.0, "task.ema_standing_stats": 10})
