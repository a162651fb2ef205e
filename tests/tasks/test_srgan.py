"""SRGAN: PixelShuffle generator shapes, the phase as a pure function of the step, the content
network (shipped MNIST classifier; VGG19 only from a hash-checked local file, else a named
fallback), a tiny run across the phase change with a bit-exact resume, and `translate`."""

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ganforge.cli import main
from ganforge.config import Config, DataConfig, SRGANConfig, TrainConfig
from ganforge.errors import CheckpointError, ConfigError
from ganforge.models.image2image import SRDiscriminator, SRResNet
from ganforge.tasks.srgan import content_network
from ganforge.training import train
from ganforge.translate import load_translator


@pytest.mark.parametrize("k", [2, 4])
def test_pixelshuffle_generator_output_shapes(k):
    for c_in, c_out in ((1, 1), (3, 3), (1, 3)):
        G = SRResNet(c_in, c_out, k, width=8, blocks=1)
        y = G(torch.randn(2, c_in, 7, 5))
        assert y.shape == (2, c_out, 7 * k, 5 * k) and y.abs().max() <= 1
        assert sum(isinstance(m, torch.nn.PixelShuffle) for m in G.modules()) == {2: 1, 4: 2}[k]
    assert SRDiscriminator(1, 8, 2)(torch.randn(3, 1, 28, 28)).shape == (3,)


def test_phase_is_a_pure_function_of_the_step():
    t = SRGANConfig(pretrain_steps=3)
    assert [t.phase(s) for s in range(5)] == ["mse", "mse", "mse", "gan", "gan"]
    assert SRGANConfig(pretrain_steps=0).phase(0) == "gan"
    assert SRGANConfig().pretrain_steps > 0  # skipping the pretraining is an option, not the default


def test_content_network_choice_and_vgg19_checks(tmp_path):
    phi, name, note = content_network(SRGANConfig(), (1, 28, 28))
    assert name == "mnist" and not note and phi(torch.zeros(2, 1, 28, 28)).shape == (2, 64, 14, 14)
    assert not any(p.requires_grad for p in phi.parameters())
    phi, name, note = content_network(SRGANConfig(), (3, 32, 32))
    assert phi is None and name == "pixel" and "no VGG19 (task.vgg19_weights is not set)" in note
    assert "falling back to pixel MSE" in note
    bogus = tmp_path / "vgg19.safetensors"
    bogus.write_bytes(b"not weights")
    with pytest.raises(CheckpointError, match="sha256"):
        content_network(SRGANConfig(content="vgg19", vgg19_weights=str(bogus), vgg19_sha256="0" * 64), (3, 32, 32))
    with pytest.raises(ConfigError, match="does not exist"):
        content_network(SRGANConfig(content="vgg19", vgg19_weights=str(tmp_path / "none")), (3, 32, 32))
    with pytest.raises(ConfigError, match="one-channel"):
        content_network(SRGANConfig(content="mnist"), (3, 32, 32))


def _cfg():
    return Config(name="sr", kind="srgan", data=DataConfig(dataset="digits", pairs="downsample:2"),
                  task=SRGANConfig(width=8, blocks=1, d_width=8, d_stages=2, pretrain_steps=5),
                  train=TrainConfig(steps=10, batch_size=8, log_every=2, sample_every=5, checkpoint_every=2,
                                     keep_checkpoints=10))


def test_tiny_srgan_runs_across_the_phase_change_and_resumes_bit_exactly(tmp_path):
    import json

    cfg = _cfg()
    full = train(cfg, runs_root=tmp_path / "a", quiet=True)
    half = train(cfg.override({"train.steps": 4}), runs_root=tmp_path / "b", quiet=True)  # stops in the MSE phase
    train(cfg, resume=half.run_dir, quiet=True)
    ck = lambda r: load_file(str(sorted((r / "checkpoints").glob("step-*"))[-1] / "model.safetensors"))
    a, b = ck(full.run_dir), ck(half.run_dir)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    rows = [json.loads(line) for line in (full.run_dir / "metrics.jsonl").read_text().splitlines() if '"mse"' in line]
    assert [r["gan_phase"] for r in rows] == [0.0, 0.0, 0.5, 1.0, 1.0]  # the window of steps 5-6 spans the change
    assert rows[-1]["d_loss"] > 0 and rows[0]["content"] == 0.0

    G, G_mse = load_translator(full.run_dir), load_translator(full.run_dir, net="G_mse")
    assert G.scale == 2 and G.in_shape == (1, 4, 4) and G.img_shape == (1, 8, 8)
    x, t, labels = G.test_pairs().test(6)
    assert not torch.equal(G.translate(x), G_mse.translate(x))  # the GAN phase moved G away from the SRResNet
    with pytest.raises(ConfigError, match="before the GAN phase"):
        load_translator(sorted((full.run_dir / "checkpoints").glob("step-*"))[0], net="G_mse")
    out, lab = G.sample(6)
    assert torch.equal(out, G.translate(x)) and torch.equal(lab, labels)

    u8 = lambda z: ((z + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)[:, 0].numpy()
    np.savez(tmp_path / "lr.npz", images=u8(x))
    assert main(["translate", str(full.run_dir), str(tmp_path / "lr.npz"), "-o", str(tmp_path / "sr.npz")]) == 0
    sr = np.load(tmp_path / "sr.npz")
    assert sr["images"].shape == (6, 8, 8) and np.array_equal(sr["images"], u8(G.translate(x)))
    assert "targets" not in sr.files

    # `ganforge evaluate` on an image-to-image run: the paired table with the baselines beside the model
    assert main(["evaluate", str(full.run_dir), "-n", "20", "--json", str(tmp_path / "e.json")]) == 0
    rep = json.loads((tmp_path / "e.json").read_text())
    assert list(rep["rows"]) == ["nearest", "bicubic", "srresnet (MSE)", "srgan"] and rep["n"] == 20
    from ganforge.eval.paired import paired_scores

    want = paired_scores(G.translate(G.test_pairs().test(20)[0]), G.test_pairs().test(20)[1], border=2)
    assert rep["rows"]["srgan"]["psnr"] == round(want["psnr"], 4) and rep["rows"]["srgan"]["ssim"] is None


def test_vgg19_content_loads_a_hash_checked_local_file(tmp_path, monkeypatch):
    """The VGG19 path with a small stand-in of the same layout (the real file is 80 MB)."""
    from safetensors.torch import save_file

    import ganforge.tasks.srgan as srgan
    from ganforge.files import sha256_file

    monkeypatch.setattr(srgan, "VGG19_LAYERS", (4, "M", 4))
    net = srgan.vgg19_features()
    weights = {f"features.{k}": v for k, v in net.state_dict().items()}
    weights["classifier.0.weight"] = torch.zeros(2, 2)  # torchvision's full state dict also has the classifier
    path = tmp_path / "vgg.safetensors"
    save_file(weights, str(path))
    t = SRGANConfig(vgg19_weights=str(path), vgg19_sha256=sha256_file(path))
    phi, name, note = content_network(t, (3, 16, 16))
    assert name == "vgg19" and not note
    assert torch.equal(phi.body[0].weight, net[0].weight) and phi(torch.zeros(1, 3, 16, 16)).shape == (1, 4, 8, 8)
    with pytest.raises(ConfigError, match="state it as task.vgg19_sha256"):
        content_network(SRGANConfig(vgg19_weights=str(path)), (3, 16, 16))
