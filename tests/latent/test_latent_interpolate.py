import math

import numpy as np
import pytest
import torch
from torch import nn

from ganforge.errors import ConfigError
from ganforge.latent.interpolate import (class_walk, forward_soft_labels, interpolate, latent_walk, lerp, slerp,
                                         walk_frames, write_gif)
from ganforge.models.dcgan import DCGANGenerator
from ganforge.models.mlp import MLPGenerator


def _pair(d=100, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(d, generator=g), torch.randn(d, generator=g)


@pytest.mark.parametrize("method", ["linear", "spherical"])
def test_endpoints_are_exact_in_z_and_image(method):
    torch.manual_seed(0)
    G = MLPGenerator(16, (1, 8, 8), (32,)).eval()
    z0, z1 = _pair(16)
    zs = interpolate(z0, z1, 7, method)
    assert torch.equal(zs[0], z0) and torch.equal(zs[-1], z1)
    with torch.no_grad():
        imgs = G(zs)
        # bit-exact against G at the endpoint codes in the same batch layout (BLAS may round
        # differently for another batch size, so that comparison gets a float tolerance)
        ref = G(torch.stack([z0] * 6 + [z1]))
        assert torch.equal(imgs[0], ref[0]) and torch.equal(imgs[-1], ref[-1])
        assert torch.allclose(imgs[0], G(z0[None])[0], atol=1e-6)
        assert torch.allclose(imgs[-1], G(z1[None])[0], atol=1e-6)


def test_slerp_norm_profile():
    z0, z1 = _pair(100)
    z1 = z1 * (z0.norm() / z1.norm())  # equal norms r
    r = float(z0.norm())
    omega = math.acos(float(torch.dot(z0, z1)) / r**2)
    s = slerp(z0, z1, 11)
    # spherical: the norm stays r all the way, and the angle to z0 grows linearly in t
    assert torch.allclose(s.norm(dim=1), torch.full((11,), r), rtol=1e-5)
    ang = torch.arccos((s @ z0 / (s.norm(dim=1) * r)).clamp(-1, 1))
    assert torch.allclose(ang, torch.linspace(0, 1, 11) * omega, atol=1e-3)
    # linear: the chord dips to r cos(omega / 2) at the midpoint
    mid = lerp(z0, z1, 3)[1]
    assert float(mid.norm()) == pytest.approx(r * math.cos(omega / 2), rel=1e-5)


def test_slerp_parallel_falls_back_to_lerp():
    z0 = torch.ones(8)
    assert torch.allclose(slerp(z0, 2 * z0, 5), lerp(z0, 2 * z0, 5))


def test_unknown_method_and_too_few_steps():
    z0, z1 = _pair(4)
    with pytest.raises(ConfigError):
        interpolate(z0, z1, 5, "cubic")
    with pytest.raises(ConfigError):
        lerp(z0, z1, 1)


@pytest.mark.parametrize("kind", ["mlp", "dcgan"])
def test_soft_labels_match_hard_labels_and_class_walk_ends(kind):
    torch.manual_seed(0)
    G = (MLPGenerator(8, (1, 8, 8), (16,), num_classes=10) if kind == "mlp"
         else DCGANGenerator(8, (1, 8, 8), 8, num_classes=10)).eval()
    z = torch.randn(3, 8)
    y = torch.tensor([0, 4, 9])
    with torch.no_grad():
        hard = G(z, y)
        soft = forward_soft_labels(G, z, torch.nn.functional.one_hot(y, 10).float())
        assert torch.equal(hard, soft)
        walk = class_walk(G, [(1, 7)], steps=5, seed=3)
        zc = torch.randn(1, 8, generator=torch.Generator().manual_seed(3))
        assert torch.allclose(walk[0], G(zc, torch.tensor([1]))[0], atol=1e-6)
        assert torch.allclose(walk[-1], G(zc, torch.tensor([7]))[0], atol=1e-6)


def test_class_outside_model_classes():
    G = MLPGenerator(8, (1, 8, 8), (16,), num_classes=10).eval()
    with pytest.raises(ConfigError, match="outside this model's classes 0..9"):
        class_walk(G, [(1, 12)])
    with pytest.raises(ConfigError, match="unconditional"):
        latent_walk(MLPGenerator(8, (1, 8, 8), (16,)).eval(), label=3)


def test_gif_is_written_with_all_frames(tmp_path):
    from PIL import Image

    frames = np.stack([np.full((8, 8), 25 * i, np.uint8) for i in range(5)])
    path = write_gif(frames, tmp_path / "walk.gif", bounce=True)
    im = Image.open(path)
    assert im.n_frames == 8  # 5 forward + 3 back (the ends are not repeated)
    assert im.size == (112, 112)
    imgs = np.zeros((2 * 4, 8, 8), np.uint8)
    assert walk_frames(imgs, 4).shape[0] == 4
    with pytest.raises(ConfigError):
        write_gif(frames.astype(np.float32), tmp_path / "bad.gif")
