"""pix2pix: U-Net skip connections, the PatchGAN's receptive field, the loss, a tiny run end to
end with a bit-exact resume, G in eval mode at test time, `ganforge translate`, bad inputs."""

import math

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from ganforge.cli import main
from ganforge.config import Config, DataConfig, Pix2PixConfig, TrainConfig
from ganforge.errors import ConfigError, DataError
from ganforge.models.image2image import PATCH_LAYERS, PatchGAN, UNet, patchgan_receptive_field
from ganforge.tasks.pix2pix import pix2pix_d_loss, pix2pix_g_loss
from ganforge.training import train
from ganforge.translate import load_translator


def test_unet_skip_connections_carry_fine_detail():
    """Without skips every output would pass the 1x1x16 bottleneck, so the Jacobian of the
    64 output pixels w.r.t. the 64 input pixels would have rank <= 16; the skips raise it."""
    torch.manual_seed(0)
    G = UNet(1, 1, width=4, depth=3, dropout=0.0).eval()
    x = torch.randn(1, 1, 8, 8)
    J = torch.autograd.functional.jacobian(lambda t: G(t).flatten(), x).reshape(64, 64)
    assert torch.linalg.matrix_rank(J) > 16
    # and one input pixel moves the output pixel at the same place
    assert J[3 * 8 + 3, 3 * 8 + 3].abs() > 0


def test_patchgan_receptive_field_equals_the_configured_one():
    assert {rf: patchgan_receptive_field(n) for rf, n in PATCH_LAYERS.items()} == {rf: rf for rf in PATCH_LAYERS}
    torch.manual_seed(0)
    for rf, size in ((1, 8), (16, 40), (34, 64), (70, 128)):
        D = PatchGAN(2, 4, rf).eval()
        x = torch.randn(1, 2, size, size, requires_grad=True)
        out = D(x)
        i, j = out.shape[-2] // 2, out.shape[-1] // 2
        out[0, 0, i, j].backward()
        support = x.grad.abs().sum((0, 1)) > 0
        rows, cols = support.any(1).nonzero().flatten(), support.any(0).nonzero().flatten()
        assert rows.max() - rows.min() + 1 == rf and cols.max() - cols.min() + 1 == rf
    with pytest.raises(ConfigError, match="receptive field"):
        PatchGAN(2, 4, 50)


def test_losses_against_hand_values():
    zero = torch.zeros(2, 1, 3, 3)
    assert pix2pix_d_loss(zero, zero).item() == pytest.approx(math.log(2))  # ½(log 2 + log 2)
    fake, target = torch.zeros(1, 1, 2, 2), torch.tensor([[[[1.0, -1.0], [0.5, 0.0]]]])
    total, adv, l1 = pix2pix_g_loss(zero, fake, target, 100.0)
    assert adv.item() == pytest.approx(math.log(2)) and l1.item() == pytest.approx(0.625)
    assert total.item() == pytest.approx(math.log(2) + 62.5)


def _cfg(**data):
    return Config(name="p2p", kind="pix2pix", data=DataConfig(**{"dataset": "digits", "pairs": "edges", **data}),
                  task=Pix2PixConfig(width=8, depth=3, patch=16, g_optim=Pix2PixConfig().g_optim),
                  train=TrainConfig(steps=8, batch_size=8, log_every=2, sample_every=4, checkpoint_every=4))


def _tensors(run_dir):
    ckpts = sorted((run_dir / "checkpoints").glob("step-*"))
    return load_file(str(ckpts[-1] / "model.safetensors"))


def test_tiny_pix2pix_runs_resumes_bit_exactly_and_translates(tmp_path):
    cfg = _cfg()
    full = train(cfg, runs_root=tmp_path / "a", quiet=True)
    half = train(cfg.override({"train.steps": 4}), runs_root=tmp_path / "b", quiet=True)
    train(cfg, resume=half.run_dir, quiet=True)
    a, b = _tensors(full.run_dir), _tensors(half.run_dir)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (full.run_dir / "samples" / "latest.png").exists()

    T = load_translator(full.run_dir)
    assert T.kind == "pix2pix" and T.in_shape == (1, 8, 8) and not T.net.training
    info = T.test_pairs()
    x, t, _ = info.test(5)
    T.net.train()  # even from train mode, translate runs G in eval mode (dropout off) and restores the mode
    y1, y2 = T.translate(x), T.translate(x)
    assert torch.equal(y1, y2) and T.net.training
    T.net.eval()

    u8 = lambda z: ((z + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)[:, 0].numpy()
    np.savez(tmp_path / "in.npz", inputs=u8(x), targets=u8(t))
    assert main(["translate", str(full.run_dir), str(tmp_path / "in.npz"), "-o", str(tmp_path / "out.npz")]) == 0
    out = np.load(tmp_path / "out.npz")
    assert np.array_equal(out["images"], u8(T.translate(x))) and np.array_equal(out["targets"], u8(t))
    assert main(["translate", str(full.run_dir), str(tmp_path / "in.npz"), "-o", str(tmp_path / "g.png")]) == 0
    w, h = Image.open(tmp_path / "g.png").size  # 5 rows of input | output | target, 8 px + 2 px padding
    k = w // (3 * 10 + 2)
    assert (w, h) == ((3 * 10 + 2) * k, (5 * 10 + 2) * k)
    for sub, imgs in (("A", u8(x)), ("B", u8(t))):  # a folder of pairs: rows input | output | target
        (tmp_path / "ab" / sub).mkdir(parents=True)
        for i, img in enumerate(imgs[:3]):
            Image.fromarray(img).save(tmp_path / "ab" / sub / f"{i}.png")
    assert main(["translate", str(full.run_dir), str(tmp_path / "ab"), "-o", str(tmp_path / "ab.npz")]) == 0
    ab = np.load(tmp_path / "ab.npz")
    assert np.array_equal(ab["images"], u8(T.translate(x[:3]))) and np.array_equal(ab["targets"], u8(t)[:3])
    Image.fromarray(u8(x)[0]).save(tmp_path / "one.png")
    assert main(["translate", str(full.run_dir), str(tmp_path / "one.png"), "-o", str(tmp_path / "dir")]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "dir" / "one.png")), u8(T.translate(x[:1]))[0])


def test_bad_inputs_exit_2(tmp_path, capsys):
    rgb = np.random.default_rng(0).integers(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    np.savez(tmp_path / "rgb.npz", images=rgb)
    np.savez(tmp_path / "grey.npz", images=rgb[..., 0])
    run = train(_cfg(dataset=str(tmp_path / "rgb.npz"), pairs="noise:0.1").override({"train.steps": 2}),
                runs_root=tmp_path, quiet=True).run_dir  # a denoiser: RGB in, RGB out
    Image.fromarray(rgb[0]).convert("L").save(tmp_path / "grey.png")
    capsys.readouterr()
    assert main(["translate", str(run), str(tmp_path / "grey.png"), "-o", str(tmp_path / "o.png")]) == 2
    assert "grayscale image but this model takes RGB inputs" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()
    assert main(["train", "--set", "kind=pix2pix", "--set", "data.pairs=gray", "--dataset", str(tmp_path / "grey.npz"),
                 "--runs-dir", str(tmp_path / "r")]) == 2
    assert "gray (colourisation) needs RGB targets" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="kind=srgan"):
        train(_cfg(pairs="downsample:2"), runs_root=tmp_path, quiet=True)
    with pytest.raises(ConfigError, match="model.width would be ignored"):
        train(_cfg().override({"model.width": 8}), runs_root=tmp_path, quiet=True)
    with pytest.raises(ConfigError, match="set data.pairs"):
        train(_cfg().override({"data.pairs": ""}), runs_root=tmp_path, quiet=True)
    for sub in ("A", "B"):
        (tmp_path / "pairs" / sub).mkdir(parents=True)
    Image.fromarray(rgb[0]).save(tmp_path / "pairs" / "A" / "a.png")
    Image.fromarray(rgb[1]).save(tmp_path / "pairs" / "B" / "b.png")
    capsys.readouterr()
    assert main(["train", "--set", "kind=pix2pix", "--set", "data.pairs=A/B", "--dataset", str(tmp_path / "pairs"),
                 "--runs-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "a.png is in A/ but has no file of the same name in B/" in err and len(err.strip().splitlines()) == 1
    assert main(["translate", str(run), str(tmp_path / "grey.png"), "-o", str(tmp_path / "x.txt")]) == 2
    gan = train(Config(name="g", data=DataConfig(dataset="digits"),
                       model=Config().model.__class__(g_hidden=(8,), d_hidden=(8,)),
                       train=TrainConfig(steps=1, batch_size=8)), runs_root=tmp_path, quiet=True).run_dir
    assert main(["translate", str(gan), str(tmp_path / "grey.png"), "-o", str(tmp_path / "x.png")]) == 2
    assert "needs a kind=srgan or kind=pix2pix run" in capsys.readouterr().err
