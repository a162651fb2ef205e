import pytest
import torch

from ganforge.config import ModelConfig
from ganforge.models import build_discriminator, build_generator
from ganforge.models.noise import sample_z
from ganforge.sampler import GeneratorSampler


@pytest.mark.parametrize("output, lo, hi", [("tanh", -1, 1), ("sigmoid", 0, 1)])
def test_mlp_generator_shape_and_range(output, lo, hi):
    torch.manual_seed(0)
    G = build_generator(ModelConfig(), (1, 28, 28), 0, output)
    x = G(torch.randn(7, 100) * 10)
    assert x.shape == (7, 1, 28, 28) and G.z_dim == 100 and G.img_shape == (1, 28, 28) and G.num_classes == 0
    assert x.min() >= lo and x.max() <= hi


def test_mlp_discriminator_returns_logits_per_sample():
    D = build_discriminator(ModelConfig(), (1, 28, 28), 0)
    out = D(torch.rand(5, 1, 28, 28))
    assert out.shape == (5,)


def test_conditional_labels_required_and_used():
    torch.manual_seed(0)
    G = build_generator(ModelConfig(g_hidden=(16,)), (1, 8, 8), 10, "tanh")
    D = build_discriminator(ModelConfig(d_hidden=(16,), d_dropout=0), (1, 8, 8), 10)
    z = torch.randn(4, 100)
    with pytest.raises(ValueError, match="pass labels"):
        G(z)
    a, b = G(z, torch.tensor([1, 1, 1, 1])), G(z, torch.tensor([2, 2, 2, 2]))
    assert not torch.allclose(a, b)
    assert not torch.allclose(D(a, torch.zeros(4, dtype=torch.long)), D(a, torch.ones(4, dtype=torch.long)))


def _sampler(net, dropout_at_sampling):
    return GeneratorSampler(net, z_dim=100, dropout_at_sampling=dropout_at_sampling, img_shape=(1, 8, 8),
                            num_classes=0, scaling="tanh", kind="gan").eval()


def test_dropout_at_sampling_keeps_randomness():
    cfg = ModelConfig(g_hidden=(32,), g_dropout=0.5)
    G = _sampler(build_generator(cfg, (1, 8, 8), 0, "tanh"), True)
    z = torch.randn(3, 100)
    assert not torch.equal(G(z), G(z))
    G2 = _sampler(build_generator(cfg, (1, 8, 8), 0, "tanh"), False)
    assert torch.equal(G2(z), G2(z))
    assert not G2.training and not G2.net.training


def test_noise_kinds():
    g = torch.Generator().manual_seed(0)
    u = sample_z(2000, 4, "uniform", g)
    n = sample_z(2000, 4, "gaussian", g)
    assert u.min() >= -1 and u.max() <= 1 and n.abs().max() > 2
    assert abs(float(n.std()) - 1) < 0.05
