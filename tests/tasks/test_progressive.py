"""Progressive growing (Karras et al. 2018): the fade-in, the paper's three ingredients
against hand-computed values, the schedule, a bit-exact resume in the middle of a fade,
and a tiny run that trains, samples and evaluates (8×8 digits: levels 4×4 and 8×8)."""

import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ganforge.cli import main
from ganforge.errors import ConfigError
from ganforge.models.progressive import (EqConv2d, EqLinear, PixelNorm, ProgressiveDiscriminator,
                                         ProgressiveGenerator, downsample, minibatch_stddev, upsample)
from ganforge.sampling import generate, load_generator
from ganforge.tasks.progressive import (GrownGenerator, Schedule, canvas_size, crop_to, pad_to, reals_at,
                                        total_steps)
from ganforge.config import ProgressiveConfig
from ganforge.training import train


def _G(**kw):
    torch.manual_seed(0)
    return ProgressiveGenerator(z_dim=8, channels=1, resolution=16, fmap_base=64, fmap_max=16, **kw)


def _D(**kw):
    torch.manual_seed(1)
    return ProgressiveDiscriminator(channels=1, resolution=16, fmap_base=64, fmap_max=16, **kw)


# ----------------------------------------------------------------------------- the fade-in


@pytest.mark.parametrize("level", [1, 2])
def test_generator_at_alpha_0_is_the_previous_level_upsampled_and_at_1_the_new_block(level):
    G, z = _G(), torch.randn(4, 8)
    with torch.no_grad():
        previous = G(z, level - 1, 1.0)
        assert G(z, level, 0.0).shape == (4, 1, 4 * 2 ** level, 4 * 2 ** level)
        torch.testing.assert_close(G(z, level, 0.0), upsample(previous), rtol=0, atol=1e-6)
        # α = 1: the new block alone -- changing the previous level's toRGB changes nothing
        new = G(z, level, 1.0)
        G.to_rgb[level - 1].weight.add_(1.0)
        torch.testing.assert_close(G(z, level, 1.0), new, rtol=0, atol=0)
        assert not torch.allclose(G(z, level, 0.5), new)  # (and halfway it does matter)


def test_discriminator_at_alpha_0_sees_the_downsampled_image_with_the_previous_level():
    D, x = _D(), torch.randn(4, 1, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(D(x, 2, 0.0), D(downsample(x), 1, 1.0), rtol=0, atol=1e-6)
        full = D(x, 2, 1.0)
        D.from_rgb[1].weight.add_(1.0)  # the faded-out path no longer matters at α = 1
        torch.testing.assert_close(D(x, 2, 1.0), full, rtol=0, atol=0)


def test_reals_are_downsampled_and_cross_faded_like_the_generator():
    x = torch.randn(2, 1, 16, 16)
    torch.testing.assert_close(reals_at(x, 1, 1.0), downsample(x, 2))  # 8×8, no fade
    torch.testing.assert_close(reals_at(x, 1, 0.0), upsample(downsample(x, 4)))  # the 4×4 version, upsampled
    half = reals_at(x, 1, 0.25)
    torch.testing.assert_close(half, 0.75 * upsample(downsample(x, 4)) + 0.25 * downsample(x, 2))
    assert reals_at(x, 0, 0.3).shape == (2, 1, 4, 4)  # level 0 never fades


# ----------------------------------------------------------------------------- the ingredients


def test_equalized_lr_scales_by_the_he_constant_of_the_fan_in():
    torch.manual_seed(0)
    conv = EqConv2d(64, 64, 3)  # fan-in 64·3·3 = 576
    he = math.sqrt(2) / math.sqrt(576)
    assert conv.scale == pytest.approx(he)
    assert conv.weight.std().item() == pytest.approx(1.0, rel=0.03)  # stored N(0, 1) ...
    assert conv.effective_weight().std().item() == pytest.approx(he, rel=0.03)  # ... used at He's scale
    x = torch.randn(2, 64, 5, 5)
    ref = torch.nn.functional.conv2d(x, conv.weight * he, conv.bias, padding=1)
    torch.testing.assert_close(conv(x), ref)
    lin = EqLinear(100, 10, gain=1.0)
    assert lin.scale == pytest.approx(1 / 10)
    plain = EqConv2d(64, 64, 3, equalized=False)  # off: the same initial scale in the weight itself
    assert plain.scale == 1.0 and plain.weight.std().item() == pytest.approx(he, rel=0.03)


def test_minibatch_stddev_adds_the_group_statistic_on_a_hand_made_batch():
    # 4 samples of 2 features (C=2, 1×1), groups of 2 with stride 2: {0, 2} and {1, 3}.
    x = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 4.0], [1.0, 1.0]]).reshape(4, 2, 1, 1)
    out = minibatch_stddev(x, group_size=2)
    assert out.shape == (4, 3, 1, 1)
    torch.testing.assert_close(out[:, :2], x)  # the features pass through
    # group {0, 2}: per-feature std (biased) = |2-0|/2 = 1 and |4-0|/2 = 2, averaged: 1.5
    # group {1, 3}: identical samples, std = sqrt(0 + 1e-8) = 1e-4
    torch.testing.assert_close(out[:, 2].flatten(), torch.tensor([1.5, 1e-4, 1.5, 1e-4]))
    wide = minibatch_stddev(torch.randn(8, 3, 4, 4), 4)
    assert wide.shape == (8, 4, 4, 4) and (wide[:, 3] == wide[0, 3, 0, 0]).sum() >= 16  # constant over pixels
    with pytest.raises(ValueError, match="multiple"):
        minibatch_stddev(torch.randn(6, 3, 4, 4), 4)


def test_pixel_norm_gives_unit_mean_square_per_pixel():
    x = torch.randn(3, 16, 5, 5) * torch.rand(3, 1, 5, 5) * 10
    y = PixelNorm()(x)
    torch.testing.assert_close(y.pow(2).mean(dim=1), torch.ones(3, 5, 5), rtol=1e-5, atol=1e-5)


def test_the_ingredients_are_options():
    G = _G(pixel_norm=False, equalized=False)
    D = _D(mbstd_group=0, equalized=False)
    assert isinstance(G.norm, torch.nn.Identity) and G.dense.scale == 1.0
    assert D.final_conv.weight.shape[1] == D.final_dense.weight.shape[1] // 16  # no extra channel
    assert D(torch.randn(3, 1, 16, 16)).shape == (3,)  # any batch size without the group statistic


# ----------------------------------------------------------------------------- the schedule


def test_stage_and_alpha_at_hand_picked_steps():
    t = ProgressiveConfig(fade_images=160, stable_images=160, batch_sizes=(16, 32, 8))
    s = Schedule.from_config(t, levels=3, default_batch=64)
    # level 0: 160/16 = 10 steps; level 1: fade 5 + stable 5; level 2: fade 20 + stable 20 (then forever)
    assert [s.start(l) for l in range(3)] == [0, 10, 20] and s.total() == 60
    expected = {0: (0, 1.0), 9: (0, 1.0), 10: (1, 0.0), 12: (1, 0.4), 15: (1, 1.0), 19: (1, 1.0),
                20: (2, 0.0), 25: (2, 0.25), 39: (2, 0.95), 40: (2, 1.0), 10 ** 6: (2, 1.0)}
    for step, (level, alpha) in expected.items():
        assert s.at(step) == (level, pytest.approx(alpha)), step
    assert [s.batch(l) for l in range(3)] == [16, 32, 8] and s.end(0) == 10 and s.end(2) is None
    # no batch sizes: train.batch_size everywhere; fewer entries than levels: the last repeats
    assert Schedule.from_config(ProgressiveConfig(), 3, 64).batch_sizes == (64, 64, 64)
    assert Schedule.from_config(ProgressiveConfig(batch_sizes=(32, 16)), 4, 64).batch_sizes == (32, 16, 16, 16)


def test_mnist_is_padded_to_32_and_the_sampler_crops_it_back():
    assert canvas_size((1, 28, 28)) == 32 and canvas_size((3, 64, 64)) == 64 and canvas_size((1, 8, 8)) == 8
    x = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8)
    padded = pad_to(x, 32)
    assert padded.shape == (2, 1, 32, 32) and padded[..., :2, :].eq(0).all() and padded[..., :, 30:].eq(0).all()
    assert torch.equal(crop_to(padded, (1, 28, 28)), x)
    G = ProgressiveGenerator(8, 1, 32, fmap_base=32, fmap_max=8)
    assert GrownGenerator(G, 1, 0.5, (1, 28, 28))(torch.randn(3, 8)).shape == (3, 1, 28, 28)
    cfg = _cfg().override({"task.batch_sizes": [], "train.batch_size": 16, "task.fade_images": 320,
                           "task.stable_images": 160})
    assert total_steps(cfg, (1, 28, 28)) == 10 + 3 * (20 + 10)  # 4 levels


def test_config_errors_are_one_sentence():
    with pytest.raises(ConfigError, match="mbstd_group"):
        ProgressiveConfig(batch_sizes=(16, 6))
    with pytest.raises(ConfigError, match="conditional"):
        train(_cfg().override({"data.conditional": True}), runs_root="unused", quiet=True)


# ----------------------------------------------------------------------------- runs


def _cfg(**train_kw):
    from ganforge.presets import preset_config

    # 8×8 digits: level 0 (4×4) for 64/32 = 2 steps, level 1 (8×8) fades in over 160/8 = 20 steps.
    # batch_sizes (32, 8) with train.batch_size 16: two draws per step at 4×4, half a draw at 8×8.
    return preset_config("digits-mlp").override({
        "kind": "progressive", "model.z_dim": 8, "train.steps": 30, "train.batch_size": 16, "train.log_every": 5,
        "train.sample_every": 10, "train.checkpoint_every": 10,
        "task.fade_images": 160, "task.stable_images": 64, "task.batch_sizes": [32, 8],
        "task.fmap_base": 32, "task.fmap_max": 16, **{f"train.{k}": v for k, v in train_kw.items()}})


def test_resume_in_the_middle_of_a_fade_is_bit_exact(tmp_path):
    cfg = _cfg()
    full = train(cfg, runs_root=tmp_path / "a", quiet=True)
    half = train(cfg.override({"train.steps": 11}), runs_root=tmp_path / "b", quiet=True)
    state = json.loads((half.checkpoint / "state.json").read_text())
    assert state["step"] == 11  # level 1, α = 9/20: mid-fade
    train(cfg, resume=half.run_dir, quiet=True)
    a, b = full.run_dir / "checkpoints" / "step-0000030", half.run_dir / "checkpoints" / "step-0000030"
    for name in ("model.safetensors", "train.safetensors"):
        ta, tb = load_file(a / name), load_file(b / name)
        assert ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta), name
    rows = lambda r: [json.loads(l) for l in (r / "metrics.jsonl").read_text().splitlines() if '"d_loss"' in l]
    strip = lambda rs: [{k: v for k, v in r.items() if k not in ("img_per_s", "time_s")} for r in rs]
    after = lambda rs: [r for r in strip(rs) if r["step"] >= 20]  # windows that do not straddle the resume
    assert after(rows(full.run_dir)) == after(rows(half.run_dir)) and len(after(rows(full.run_dir))) == 3
    alphas = [r["alpha"] for r in rows(full.run_dir)]
    assert alphas[1] < 1.0 and rows(full.run_dir)[-1]["resolution"] == 8.0


def test_a_tiny_progressive_run_trains_grows_samples_and_evaluates(tmp_path):
    from ganforge.data.arrays import load_digits8

    r = train(_cfg(steps=40), runs_root=tmp_path, quiet=True)
    rows = [json.loads(l) for l in (r.run_dir / "metrics.jsonl").read_text().splitlines() if '"d_loss"' in l]
    assert all(math.isfinite(row["d_loss"]) and math.isfinite(row["g_loss"]) for row in rows)
    assert rows[0]["resolution"] < 8.0 and rows[-1]["resolution"] == 8.0  # it grew
    samples = r.run_dir / "samples"
    assert (samples / "stage-1-4x4.png").exists() and (samples / "stage-2-8x8.png").exists()
    from PIL import Image

    gif = Image.open(samples / "progress.gif")
    assert gif.n_frames == len(list(samples.glob("step-*.png"))) == 4
    G = load_generator(r.run_dir)
    assert G.kind == "progressive" and G.img_shape == (1, 8, 8) and (G.net.level, G.net.alpha) == (1, 1.0)
    imgs, _ = generate(G, 6, seed=1)
    assert imgs.shape == (6, 8, 8) and imgs.dtype == np.uint8 and imgs.std() > 0
    assert main(["sample", str(r.run_dir), "-n", "5", "-o", str(tmp_path / "s.npz")]) == 0
    assert np.load(tmp_path / "s.npz")["images"].shape == (5, 8, 8)
    x, _ = load_digits8()
    np.savez(tmp_path / "ref.npz", images=x[:400])
    np.savez(tmp_path / "train.npz", images=x[400:])
    out = tmp_path / "e.json"
    assert main(["evaluate", str(r.run_dir), "--ref", str(tmp_path / "ref.npz"), "--train",
                 str(tmp_path / "train.npz"), "-n", "100", "--bootstrap", "0", "--json", str(out)]) == 0
    assert 0.5 <= json.loads(out.read_text())["metrics"]["c2st_pixels"]["value"] <= 1.0
