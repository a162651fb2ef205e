import pytest
import torch

from ganforge.config import ModelConfig
from ganforge.errors import ConfigError
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


# --- FastDropout: nn.Dropout's maths with masks from torch's int64 stream (issue 20) ---

def test_fast_dropout_keeps_each_element_with_probability_one_minus_p():
    from ganforge.models.layers import FastDropout

    torch.manual_seed(0)
    n, p = 2_000_000, 0.3
    out = FastDropout(p).train()(torch.ones(n))
    kept = out != 0
    sd = (p * (1 - p) / (n / 2)) ** 0.5  # each half of the 64-bit words on its own: 5 sd
    assert abs(kept[0::2].float().mean().item() - (1 - p)) < 5 * sd
    assert abs(kept[1::2].float().mean().item() - (1 - p)) < 5 * sd
    # neighbours (the two halves of one word) are independent: P(both kept) = (1-p)^2
    both = (kept[0::2] & kept[1::2]).float().mean().item()
    assert abs(both - (1 - p) ** 2) < 5 * ((1 - p) ** 2 * (1 - (1 - p) ** 2) / (n / 2)) ** 0.5
    torch.testing.assert_close(out[kept], torch.full_like(out[kept], 1 / (1 - p)))  # inverted dropout's scale


def test_fast_dropout_gradient_is_the_mask_and_eval_is_identity():
    from ganforge.models.layers import FastDropout

    torch.manual_seed(1)
    x = torch.randn(64, 33, requires_grad=True)  # odd element count: the last word is half used
    layer = FastDropout(0.5)
    out = layer(x)
    out.sum().backward()
    torch.testing.assert_close(x.grad, (out != 0).float() * 2.0)
    torch.testing.assert_close(out, x.detach() * x.grad)
    assert layer.eval()(x) is x and FastDropout(0.0).train()(x) is x
    assert torch.equal(FastDropout(1.0).train()(x), torch.zeros_like(x))
    assert FastDropout(0.5).train()(x.detach().bfloat16()).dtype == torch.bfloat16


def test_fast_dropout_is_seeded_by_torch_and_found_as_dropout():
    from torch import nn

    from ganforge.models.layers import FastDropout

    x = torch.ones(1000)
    torch.manual_seed(7)
    a = FastDropout(0.3)(x)
    torch.manual_seed(7)
    assert torch.equal(FastDropout(0.3)(x), a) and not torch.equal(FastDropout(0.3)(x), a)
    D = build_discriminator(ModelConfig(dropout_masks="fast"), (1, 28, 28), 0)
    kinds = {type(m) for m in D.modules() if isinstance(m, nn.Dropout)}
    assert kinds == {FastDropout}  # and GeneratorSampler's dropout_at_sampling finds it by nn.Dropout
    assert {type(m) for m in build_discriminator(ModelConfig(), (1, 28, 28), 0).modules()
            if isinstance(m, nn.Dropout)} == {nn.Dropout}
    with pytest.raises(ConfigError, match="dropout_masks"):
        ModelConfig(dropout_masks="bits")
