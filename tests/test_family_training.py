"""The GAN family in training: weight clipping, n_critic, every preset on tiny data,
conditional sampling, and wrong combinations refused with one sentence (library and CLI)."""

import json
import math

import numpy as np
import pytest
import torch

import ganforge.tasks.gan as gan
from ganforge.data.batches import DeviceBatcher
from ganforge import checkpoint
from ganforge.cli import main
from ganforge.config import Config, LossConfig
from ganforge.errors import ConfigError, DataError
from ganforge.models import build_discriminator, build_generator
from ganforge.presets import PRESETS, preset_config
from ganforge.training import train
from ganforge.optim import make_optimizer
from ganforge.tasks.gan import Objective, d_step

TINY = {"data.dataset": "digits", "train.steps": 3, "train.batch_size": 16, "train.log_every": 1,
        "train.sample_every": 100, "train.checkpoint_every": 100, "model.width": 8, "model.z_dim": 16}


def tiny(name: str, **extra) -> Config:
    return preset_config(name).override(TINY | extra)


def metrics(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_clip_weights_keeps_every_critic_weight_inside_c():
    torch.manual_seed(0)
    cfg = preset_config("mnist-wgan").override({"model.width": 8, "model.z_dim": 16})
    G = build_generator(cfg.model, (1, 8, 8))
    D = build_discriminator(cfg.model, (1, 8, 8))
    obj = Objective.from_config(cfg.task.loss)
    c = cfg.task.loss.clip
    assert c == 0.01
    opt = make_optimizer(D.parameters(), cfg.task.d_optim.__class__("rmsprop", 0.5))  # big steps push weights out
    for _ in range(5):
        d_step(G, D, opt, torch.rand(16, 1, 8, 8) * 2 - 1, None, torch.randn(16, 16), obj)
        params = list(D.parameters())
        assert all(p.abs().max() <= c for p in params)
    # clipping binds: many weights sit on the boundary after such steps
    assert sum(int((p.abs() == c).sum()) for p in D.parameters()) > 10


def test_clipping_holds_in_a_training_run(tmp_path):
    cfg = tiny("mnist-wgan", **{"train.steps": 4})
    r = train(cfg, runs_root=tmp_path, quiet=True)
    D = build_discriminator(cfg.model, (1, 8, 8))
    checkpoint.load_module_weights(r.checkpoint, "D", D)
    assert all(p.abs().max() <= 0.01 + 1e-9 for p in D.parameters())


def test_n_critic_counts_critic_steps_per_generator_step(tmp_path, monkeypatch):
    calls = []
    real_d, real_g, real_next = gan.d_step, gan.g_step, DeviceBatcher.next
    monkeypatch.setattr(gan, "d_step", lambda *a, **k: (calls.append("D"), real_d(*a, **k))[1])
    monkeypatch.setattr(gan, "g_step", lambda *a, **k: (calls.append("G"), real_g(*a, **k))[1])
    draws = []
    monkeypatch.setattr(DeviceBatcher, "next", lambda self: (draws.append(1), real_next(self))[1])
    cfg = tiny("mnist-wgan-gp", **{"train.steps": 3})
    assert cfg.task.d_steps == 5
    train(cfg, runs_root=tmp_path, quiet=True)
    assert "".join(calls) == "DDDDDG" * 3
    assert len(draws) == 15  # one fresh real batch per critic step

    # the WGAN reference code's schedule: 100 critic steps at first and every 500th G step
    calls.clear()
    boosted = cfg.override({"train.d_steps_boost": 7, "train.boost_first": 2, "train.boost_every": 3,
                            "train.steps": 4})
    assert [boosted.task.critic_steps(i) for i in range(7)] == [7, 7, 5, 7, 5, 5, 7]
    train(boosted, runs_root=tmp_path / "boost", quiet=True)
    assert "".join(calls) == "D" * 7 + "G" + "D" * 7 + "G" + "DDDDDG" + "D" * 7 + "G"


GAN_PRESETS = [n for n in PRESETS.names() if getattr(PRESETS.get(n).config, "kind", "gan") == "gan"]


@pytest.mark.parametrize("name", GAN_PRESETS)
def test_every_preset_runs_on_tiny_data_without_nan(name, tmp_path):
    cfg = tiny(name)
    if name.startswith("digits"):
        cfg = cfg.override({"model.g_hidden": [32], "model.d_hidden": [32]})
    r = train(cfg, runs_root=tmp_path, quiet=True)
    rows = metrics(r.run_dir)
    assert r.step == 3 and len(rows) == 3
    for row in rows:
        for k in ("d_loss", "g_loss", "d_real", "d_fake"):
            assert math.isfinite(row[k]), (k, row)
    assert r.grid is not None and r.grid.exists()
    if cfg.task.loss.penalty != "none":
        assert all(math.isfinite(row["penalty"]) for row in rows)


def test_folder_preset_resizes_any_folder_to_32px_rgb(tmp_path):
    from PIL import Image

    folder = tmp_path / "faces"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    cfg = tiny("folder-dcgan", **{"data.dataset": str(folder), "train.steps": 2, "train.batch_size": 8})
    r = train(cfg, runs_root=tmp_path / "runs", quiet=True)
    state = checkpoint.load_state(r.checkpoint)
    assert state["img_shape"] == [3, 32, 32]
    from ganforge.sampling import generate, load_generator

    images, _ = generate(load_generator(r.run_dir), 4)
    assert images.shape == (4, 32, 32, 3) and images.dtype == np.uint8
    # evaluating the run against its folder decodes the folder at the run's 32 px, not at 64
    from ganforge.eval import evaluate

    rep = evaluate(r.run_dir, ref=str(folder), train=str(folder), n=12, bootstrap=0, pixel_c2st=False, floor=False)
    assert rep.value("copy_rate") == 0.0  # random 2-step samples are nowhere near the noise images


def test_folder_preset_placeholder_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(DataError, match="--dataset path/to/folder"):
        train(preset_config("folder-dcgan"), runs_root=tmp_path / "runs", quiet=True)
    assert not (tmp_path / "runs").exists()
    assert main(["train", "--preset", "folder-dcgan", "--runs-dir", str(tmp_path / "runs"), "--quiet"]) == 2
    assert "--dataset path/to/folder" in capsys.readouterr().err


def test_conditional_dcgan_samples_by_class_and_ema(tmp_path, capsys):
    cfg = tiny("mnist-cgan", **{"model.ema": 0.9, "train.steps": 2})
    r = train(cfg, runs_root=tmp_path, quiet=True)
    assert "G_ema" in checkpoint.load_state(r.checkpoint)["modules"]
    out = tmp_path / "sevens.npz"
    assert main(["sample", str(r.run_dir), "--class", "7", "-n", "6", "-o", str(out)]) == 0
    with np.load(out) as z:
        assert z["images"].shape == (6, 8, 8) and (z["labels"] == 7).all()
    assert main(["sample", str(r.run_dir), "--by-class", "-n", "20", "-o", str(tmp_path / "rows.png")]) == 0
    assert (tmp_path / "rows.png").exists()


@pytest.mark.parametrize("maps", [False, True], ids=["projection", "projection+maps"])
def test_projection_preset_variant_trains(tmp_path, maps):
    r = train(tiny("mnist-cgan", **{"model.projection": True, "model.projection_maps": maps,
                                    "model.spectral_norm": True, "model.d_batchnorm": False,
                                    "loss.d_loss": "hinge", "loss.g_loss": "hinge"}),
              runs_root=tmp_path, quiet=True)
    assert all(math.isfinite(row["d_loss"]) for row in metrics(r.run_dir))


# --- wrong combinations: refused with one sentence, by the library and by the CLI (exit 2) ---

WRONG = [
    ("mnist-dcgan", ["loss.penalty=gp", "loss.d_loss=wasserstein", "loss.g_loss=wasserstein"], "BatchNorm in the critic"),
    ("mnist-wgan-gp", ["model.d_batchnorm=true"], "BatchNorm in the critic"),
    ("mnist-dcgan", ["loss.penalty=r1"], "R1 penalty"),
    ("mnist-wgan", ["loss.penalty=gp"], "use one"),
    ("mnist-dcgan", ["loss.clip=0.01"], "belongs to the Wasserstein critic"),
    ("mnist-wgan", ["loss.clip=0"], "needs a Lipschitz constraint"),
    ("mnist-wgan-gp", ["loss.g_loss=nonsaturating"], "unbounded scores"),
    ("mnist-dcgan", ["model.projection=true"], "data.conditional=true"),
    ("mnist-cgan", ["model.projection=true", "model.discriminator=mlp"], "no projection head"),
    ("mnist-cgan", ["model.projection_maps=true"], "model.projection=true too"),
    ("mnist-hinge-sn", ["loss.label_smoothing=0.1"], "bce loss only"),
    ("mnist-dcgan", ["model.generator=resnet"], "valid choices: dcgan, mlp"),
]


@pytest.fixture
def digits16(tmp_path):
    """The 8×8 digits enlarged to 16×16 (.npz with labels): at 8 px a DCGAN critic has a
    single convolution and so no BatchNorm layer; at 16 px it has one."""
    from ganforge.data.arrays import load_digits8

    x, y = load_digits8()
    path = tmp_path / "digits16.npz"
    np.savez(path, images=np.kron(x[:64], np.ones((2, 2), np.uint8)), labels=y[:64])
    return str(path)


@pytest.mark.parametrize("preset,sets,message", WRONG, ids=[f"{p}:{'+'.join(s)}" for p, s, _ in WRONG])
def test_wrong_combinations_raise_one_sentence(preset, sets, message, tmp_path, capsys, digits16):
    runs = tmp_path / "runs"
    with pytest.raises(ConfigError, match=message):
        cfg = preset_config(preset).override(TINY | {"data.dataset": digits16}).with_sets(sets)
        train(cfg, runs_root=runs, quiet=True)
    argv = ["train", "--preset", preset, "--dataset", digits16, "--steps", "1", "--runs-dir", str(runs), "--quiet"]
    for s in sets:
        argv += ["--set", s]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert len(err.splitlines()) == 1
    assert not runs.exists() or not any(runs.iterdir())  # nothing half-written


def test_loss_config_refuses_log_likelihood_g_loss_with_critic():
    with pytest.raises(ConfigError, match="set loss.g_loss=wasserstein"):
        LossConfig(d_loss="wasserstein", g_loss="saturating", clip=0.01)
    LossConfig(d_loss="wasserstein", g_loss="hinge", clip=0.01)  # the same function: allowed


def test_preset_registry_error_lists_names(capsys):
    with pytest.raises(ConfigError) as info:
        preset_config("mnist-gann")
    for name in ("mnist-dcgan", "mnist-cgan", "mnist-wgan", "mnist-wgan-gp", "mnist-hinge-sn", "folder-dcgan"):
        assert name in str(info.value)
    assert main(["train", "--preset", "mnist-gann"]) == 2
    assert "valid choices" in capsys.readouterr().err


def test_presets_cite_papers_and_list_in_cli(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for name in GAN_PRESETS:
        p = PRESETS.get(name)
        assert p.summary and p.reference and p.config.name == name
        assert name in out
    refs = {n: PRESETS.get(n).reference for n in PRESETS.names()}
    assert "Radford" in refs["mnist-dcgan"] and "Mirza" in refs["mnist-cgan"]
    assert "5e-5" in refs["mnist-wgan"] and "0.01" in refs["mnist-wgan"]
    assert "lambda = 10" in refs["mnist-wgan-gp"] and "Miyato" in refs["mnist-hinge-sn"]
    gp = preset_config("mnist-wgan-gp")
    g = gp.task
    assert (g.loss.penalty, g.loss.penalty_weight, g.d_steps, g.d_optim.lr, g.d_optim.betas) == \
        ("gp", 10.0, 5, 1e-4, (0.0, 0.9))
    w = preset_config("mnist-wgan").task
    assert (w.loss.clip, w.d_steps, w.d_optim.name, w.d_optim.lr) == (0.01, 5, "rmsprop", 5e-5)


@pytest.mark.parametrize("sets", [
    ["loss.d_loss=lsgan", "loss.g_loss=lsgan"],
    ["loss.g_loss=saturating", "loss.label_smoothing=0.1"],
    ["loss.penalty=r1", "loss.penalty_weight=1", "model.d_batchnorm=false"],
    ["model.upsample=nearest", "model.ema=0.99", "model.d_dropout=0.2"],
    ["model.diffaugment=color,translation,cutout"],
], ids=["lsgan", "saturating+smoothing", "r1", "nearest+ema+dropout", "diffaugment"])
def test_other_objectives_and_options_train_without_nan(sets, tmp_path):
    r = train(tiny("mnist-dcgan").with_sets(sets), runs_root=tmp_path, quiet=True)
    for row in metrics(r.run_dir):
        assert all(math.isfinite(v) for v in row.values())


def test_ema_warmup_follows_g_early_and_reaches_the_decay():
    from torch import nn

    from ganforge.tasks.gan import ema_decay, ema_update

    assert ema_decay(0.999, 0) == pytest.approx(0.1)
    assert ema_decay(0.999, 90) == pytest.approx(0.91)
    assert ema_decay(0.999, 10**6) == 0.999
    G, G_ema = nn.Linear(2, 1), nn.Linear(2, 1)
    with torch.no_grad():
        G.weight.fill_(1.0)
        G_ema.weight.fill_(0.0)
    ema_update(G_ema, G, 0.999, step=0)  # first update: 0.1 * old + 0.9 * G
    assert torch.allclose(G_ema.weight, torch.full_like(G_ema.weight, 0.9))
    ema_update(G_ema, G, 0.999)  # no step: the plain decay
    assert torch.allclose(G_ema.weight, torch.full_like(G_ema.weight, 0.9 + 0.1 * 0.001))


def test_diffaugment_run_resumes_bit_exactly(tmp_path):
    """The augmentation draws from torch's global generator, which checkpoints restore."""
    from safetensors.torch import load_file

    cfg = tiny("mnist-dcgan").with_sets(["model.diffaugment=color,translation,cutout", "train.steps=6"])
    full = train(cfg, runs_root=tmp_path / "a", quiet=True)
    half = train(cfg.override({"train.steps": 3}), runs_root=tmp_path / "b", quiet=True)
    resumed = train(cfg, resume=half.run_dir, quiet=True)
    assert resumed.step == full.step == 6
    wa, wb = (load_file(str(r.checkpoint / "model.safetensors")) for r in (full, resumed))
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
