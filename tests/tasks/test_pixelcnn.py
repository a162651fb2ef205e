"""The gated PixelCNN: causality over the whole receptive field (no blind spot), exact
likelihood scale, seeded sampling, bit-exact resume, class-conditional sampling."""

import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ganforge.cli import main
from ganforge.config import PixelCNNConfig
from ganforge.errors import ConfigError
from ganforge.models.pixelcnn import GatedPixelCNN, binarize, bits_per_dim, nll_per_image, to_input
from ganforge.presets import preset_config
from ganforge.sampling import generate, load_sampler
from ganforge.tasks.pixelcnn import PixelCNNSampler
from ganforge.training import train


def expected_field(r: int, c: int, reach: int, h: int, w: int) -> torch.Tensor:
    """The pixels output (r, c) of a gated PixelCNN must see: rows r-reach..r-1 over columns
    c-reach..c+reach (the vertical stack; its right half is the plain PixelCNN's blind spot)
    and row r over columns c-reach..c-1 (the horizontal stack)."""
    field = torch.zeros(h, w, dtype=torch.bool)
    field[max(0, r - reach):r, max(0, c - reach):c + reach + 1] = True
    field[r, max(0, c - reach):c] = True
    return field


@pytest.mark.parametrize("likelihood, channels, classes", [("categorical", 1, 0), ("bernoulli", 1, 3),
                                                           ("categorical", 2, 0)])
def test_output_depends_exactly_on_the_earlier_pixels_in_its_receptive_field(likelihood, channels, classes):
    torch.manual_seed(0)
    h = w = 10
    net = GatedPixelCNN((channels, h, w), channels=4, layers=3, kernel=3, first_kernel=5, head=8,
                        num_classes=classes, likelihood=likelihood).double()
    assert net.reach == 2 + 1 + 1
    y = torch.tensor([2]) if classes else None
    for r, c in [(0, 0), (0, 5), (3, 0), (5, 4), (5, 9), (9, 9), (9, 2)]:
        x = torch.rand(1, channels, h, w, dtype=torch.double, requires_grad=True)
        out = net(x, y)
        for ch in range(channels):
            o = out[0, :, ch, r, c].sum() if likelihood == "categorical" else out[0, ch, r, c]
            grad, = torch.autograd.grad(o, x, retain_graph=True)
            seen = (grad[0] != 0).any(dim=0)  # any channel of the input pixel
            later = torch.arange(h * w).view(h, w) >= r * w + c
            assert not seen[later].any(), f"output ({r},{c}) sees pixel at or after itself"
            # exactly the receptive field: every earlier pixel in it is seen, including above-right
            assert torch.equal(seen, expected_field(r, c, net.reach, h, w)), (r, c)
    # the blind-spot region of a plain PixelCNN: up and to the right of the current pixel
    assert expected_field(5, 4, net.reach, h, w)[4, 8]


@pytest.mark.parametrize("likelihood, classes", [("categorical", 0), ("bernoulli", 2)])
def test_the_sampling_path_gives_the_full_pass_logits(likelihood, classes):
    """Row context once per row + the horizontal stack over the pixels to the left, each cut to
    the receptive field, computes exactly the conditionals of a pass over the whole image."""
    torch.manual_seed(1)
    net = GatedPixelCNN((1, 12, 12), channels=4, layers=3, kernel=3, first_kernel=3, head=8, num_classes=classes,
                        likelihood=likelihood).eval()
    x = to_input(torch.randint(0, 2 if classes else 256, (3, 1, 12, 12)), likelihood)
    y = torch.tensor([0, 1, 1]) if classes else None
    full = net(x, y)
    p = net.reach
    for r in range(12):
        context = net.row_context(x[:, :, max(0, r - p):r + 1], y)
        for c in range(12):
            left = max(0, c - p)
            got = net.pixel_logits(x[:, :, r:r + 1, left:c + 1], [t[..., left:c + 1] for t in context])
            assert torch.allclose(got, full[..., r, c], atol=1e-5), (r, c)


def test_constant_logits_give_exactly_8_bits_per_dim_and_1_bit_when_binary():
    from ganforge.data.arrays import load_digits8

    images, _ = load_digits8()
    levels = torch.from_numpy(images[:50, None]).long()
    for likelihood, target, bits in [("categorical", levels, 8.0), ("bernoulli", binarize(levels, "threshold"), 1.0)]:
        net = GatedPixelCNN((1, 8, 8), channels=4, layers=2, kernel=3, first_kernel=3, head=4, likelihood=likelihood)
        with torch.no_grad():  # the last 1x1 convolution outputs zeros: every conditional is uniform
            net.head[-1].weight.zero_()
            net.head[-1].bias.zero_()
        s = PixelCNNSampler(net, likelihood=likelihood, binarize="none", img_shape=(1, 8, 8), num_classes=0,
                            scaling="tanh", kind="pixelcnn")
        nats = s.nll(target)
        assert abs(float(bits_per_dim(nats.mean(), 64)) - bits) < 1e-12
        assert abs(float(nats[0]) - 64 * bits * math.log(2)) < 1e-9


def test_nll_matches_the_product_of_the_conditionals_by_hand():
    logits = torch.zeros(1, 256, 1, 1, 2)
    logits[0, 7, 0, 0, 0] = math.log(3.0)  # first pixel: value 7 three times as likely, p = 3/258
    levels = torch.tensor([[[[7, 9]]]])  # second pixel: uniform, p = 1/256
    expected = -math.log(3 / 258) - math.log(1 / 256)
    assert abs(float(nll_per_image(logits, levels, "categorical")) - expected) < 1e-5


def test_dynamic_binarisation_is_a_bernoulli_draw_of_the_intensity():
    x = torch.full((1, 1, 100, 100), 64, dtype=torch.uint8)
    b = binarize(x, "dynamic", torch.rand(x.shape, generator=torch.Generator().manual_seed(0)))
    assert abs(b.float().mean().item() - 64 / 255) < 0.02
    assert binarize(torch.tensor([127, 128], dtype=torch.uint8), "threshold").tolist() == [0, 1]


def test_config_states_the_binarisation():
    with pytest.raises(ConfigError, match="task.binarize=dynamic or threshold"):
        PixelCNNConfig(likelihood="bernoulli")
    with pytest.raises(ConfigError, match="task.binarize=none"):
        PixelCNNConfig(binarize="dynamic")
    with pytest.raises(ConfigError, match="odd kernel"):
        PixelCNNConfig(kernel=4)
    assert preset_config("mnist-pixelcnn-binary").task.binarize == "dynamic"
    assert preset_config("mnist-pixelcnn").task.likelihood == "categorical"


def _cfg(**task):
    return preset_config("digits-mlp").override({
        "kind": "pixelcnn", "train.steps": 20, "train.log_every": 5, "train.sample_every": 10,
        "train.checkpoint_every": 10, "train.batch_size": 16, "task.channels": 8, "task.layers": 2, "task.head": 16,
        "task.first_kernel": 3, **{f"task.{k}": v for k, v in task.items()}})


def test_sampling_is_seeded_in_range_and_resume_is_bit_exact(tmp_path):
    cfg = _cfg(likelihood="bernoulli", binarize="dynamic")  # dynamic: the binarisation draws must resume too
    full = train(cfg, runs_root=tmp_path / "a", quiet=True)
    half = train(cfg.override({"train.steps": 10}), runs_root=tmp_path / "b", quiet=True)
    resumed = train(cfg, resume=half.run_dir, quiet=True)
    a, b = (load_file(str(r.checkpoint / "model.safetensors")) for r in (full, resumed))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    s = load_sampler(full.run_dir)
    assert s.kind == "pixelcnn" and s.likelihood == "bernoulli" and s.binarize == "dynamic"
    x1, _ = generate(s, 6, seed=3)
    x2, _ = generate(s, 6, seed=3)
    x3, _ = generate(s, 6, seed=4)
    assert x1.shape == (6, 8, 8) and x1.dtype == np.uint8 and np.array_equal(x1, x2) and not np.array_equal(x1, x3)
    assert set(np.unique(x1)) <= {0, 255}  # binary pixels, shown black and white
    raw, _ = s.sample(4, seed=0)
    assert raw.min() >= -1 and raw.max() <= 1
    assert (full.run_dir / "samples").exists()


def test_8bit_model_samples_through_the_cli(tmp_path):
    run = train(_cfg(), runs_root=tmp_path, quiet=True).run_dir
    assert main(["sample", str(run), "-n", "5", "--seed", "2", "-o", str(tmp_path / "s.npz")]) == 0
    images = np.load(tmp_path / "s.npz")["images"]
    assert images.shape == (5, 8, 8) and images.dtype == np.uint8 and len(np.unique(images)) > 2
    # and `ganforge evaluate` scores its samples like any generator's
    from ganforge.data.arrays import load_digits8

    x, _ = load_digits8()
    np.savez(tmp_path / "ref.npz", images=x[:400])
    np.savez(tmp_path / "train.npz", images=x[400:])
    out = tmp_path / "e.json"
    assert main(["evaluate", str(run), "--ref", str(tmp_path / "ref.npz"), "--train", str(tmp_path / "train.npz"),
                 "-n", "100", "--bootstrap", "0", "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert 0.5 <= rep["metrics"]["c2st_pixels"]["value"] <= 1.0 and "copy_rate" in rep["metrics"]


def test_conditional_sampling_respects_the_class(tmp_path):
    """A tiny model trained on digits 0 and 1 only: --class 0 draws images nearer the mean 0
    than the mean 1, and --class 1 the reverse."""
    from ganforge.data.arrays import load_digits8

    x, y = load_digits8()
    keep = y < 2
    x, y = x[keep], y[keep]
    np.savez(tmp_path / "01.npz", images=x, labels=y)
    # 4 layers reaching 5 pixels: with 2 layers (reach 2) strokes wander and 0s do not close
    cfg = _cfg(likelihood="bernoulli", binarize="threshold", layers=4, first_kernel=5).override({
        "data.dataset": str(tmp_path / "01.npz"), "data.conditional": True, "train.steps": 300, "task.optim.lr": 3e-3,
        "train.batch_size": 32, "train.sample_every": 300, "train.checkpoint_every": 300, "train.log_every": 50})
    run = train(cfg, runs_root=tmp_path, quiet=True).run_dir
    # the label carries information: the training images are likelier under their own class
    s = load_sampler(run)
    levels, labels = binarize(torch.from_numpy(x[:, None]), "threshold"), torch.from_numpy(y)
    assert s.nll(levels, labels).mean() < s.nll(levels, 1 - labels).mean() - 5
    means = [(x[y == k] >= 128).mean(0) for k in (0, 1)]
    for k in (0, 1):
        out = tmp_path / f"c{k}.npz"
        assert main(["sample", str(run), "-n", "20", "--class", str(k), "-o", str(out)]) == 0
        data = np.load(out)
        assert (data["labels"] == k).all()
        s = data["images"] >= 128
        d = [((s - m) ** 2).sum((1, 2)) for m in means]
        share = (d[k] < d[1 - k]).mean()
        assert share >= 0.75, f"only {share:.0%} of the class-{k} samples look like {k}"
