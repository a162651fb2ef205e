"""Shapes, ranges and label handling of every registered generator and discriminator."""

import pytest
import torch
from torch import nn

from ganforge.config import ModelConfig
from ganforge.errors import ConfigError
from ganforge.models import DISCRIMINATORS, GENERATORS, build_discriminator, build_generator, has_batchnorm
from ganforge.models.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_geometry

SHAPES = [(1, 8, 8), (1, 28, 28), (3, 32, 32), (1, 32, 32), (3, 64, 64)]


def small_cfg(name: str, **kw) -> ModelConfig:
    base = dict(generator=name, discriminator=name, z_dim=16, width=8, g_hidden=(32,), d_hidden=(32,), d_dropout=0.0)
    return ModelConfig(**(base | kw))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", sorted(set(GENERATORS.names()) & set(DISCRIMINATORS.names())))
def test_every_registered_model_shapes_and_range(name, shape):
    torch.manual_seed(0)
    cfg = small_cfg(name)
    G, D = build_generator(cfg, shape, 0, "tanh"), build_discriminator(cfg, shape, 0)
    assert (G.z_dim, G.num_classes, G.img_shape) == (16, 0, shape)
    x = G(torch.randn(5, 16))
    assert x.shape == (5, *shape) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1
    out = D(x)
    assert out.shape == (5,) and torch.isfinite(out).all()


@pytest.mark.parametrize("upsample", ["transpose", "nearest"])
def test_dcgan_upsample_modes(upsample):
    G = build_generator(small_cfg("dcgan", upsample=upsample), (1, 28, 28))
    has_t = any(isinstance(m, nn.ConvTranspose2d) for m in G.modules())
    has_up = any(isinstance(m, nn.Upsample) for m in G.modules())
    assert (has_t, has_up) == ((True, False) if upsample == "transpose" else (False, True))
    assert G(torch.randn(3, 16)).shape == (3, 1, 28, 28)


@pytest.mark.parametrize("output,lo,hi", [("tanh", -1, 1), ("sigmoid", 0, 1)])
def test_dcgan_output_activation(output, lo, hi):
    G = build_generator(small_cfg("dcgan"), (1, 8, 8), 0, output)
    x = G(torch.randn(8, 16) * 10)
    assert x.min() >= lo and x.max() <= hi


def test_dcgan_geometry():
    assert dcgan_geometry(28) == (7, 2)
    assert dcgan_geometry(32) == (4, 3)
    assert dcgan_geometry(64) == (4, 4)
    assert dcgan_geometry(8) == (4, 1)
    for bad in (7, 27, 5):
        with pytest.raises(ConfigError, match="even image size"):
            dcgan_geometry(bad)
    with pytest.raises(ConfigError, match="square"):
        build_generator(small_cfg("dcgan"), (1, 28, 32))
    with pytest.raises(ConfigError, match="square"):
        build_discriminator(small_cfg("dcgan"), (10,))


def test_dcgan_batchnorm_and_spectral_norm_options():
    G = build_generator(small_cfg("dcgan", g_batchnorm=True), (1, 28, 28))
    assert has_batchnorm(G)
    assert not has_batchnorm(build_generator(small_cfg("dcgan", g_batchnorm=False), (1, 28, 28)))
    D = build_discriminator(small_cfg("dcgan", d_batchnorm=True), (1, 28, 28))
    assert has_batchnorm(D)
    assert not isinstance(D.features[1], nn.BatchNorm2d)  # never on D's input layer (DCGAN)
    assert not has_batchnorm(build_discriminator(small_cfg("dcgan"), (1, 28, 28)))
    Dsn = build_discriminator(small_cfg("dcgan", spectral_norm=True), (1, 28, 28), 10)
    sn = [m for m in Dsn.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert sn and all(nn.utils.parametrize.is_parametrized(m) for m in sn)
    Dproj = build_discriminator(small_cfg("dcgan", spectral_norm=True, projection=True), (1, 28, 28), 10)
    assert nn.utils.parametrize.is_parametrized(Dproj.embed)
    Ddrop = build_discriminator(small_cfg("dcgan", d_dropout=0.25), (1, 28, 28))
    assert any(isinstance(m, nn.Dropout) and m.p == 0.25 for m in Ddrop.modules())


def test_dcgan_spectral_norm_bounds_each_layer():
    torch.manual_seed(0)
    D = build_discriminator(small_cfg("dcgan", spectral_norm=True), (1, 8, 8))
    D.train()
    for _ in range(30):  # power iteration converges during training-mode forwards
        D(torch.randn(4, 1, 8, 8))
    W = D.head.weight.detach()
    assert torch.linalg.matrix_norm(W, 2).item() == pytest.approx(1.0, rel=0.05)


@pytest.mark.parametrize("name", ["dcgan", "mlp"])
def test_conditional_generator_respects_labels(name):
    torch.manual_seed(0)
    G = build_generator(small_cfg(name), (1, 28, 28), num_classes=10).eval()
    z = torch.randn(4, 16)
    y = torch.tensor([0, 1, 2, 3])
    a, b = G(z, y), G(z, y.flip(0))
    assert a.shape == (4, 1, 28, 28)
    assert not torch.allclose(a, b)
    assert torch.equal(G(z, y), a)  # deterministic in eval mode
    # the same label gives the same image: only the label changed the output
    assert torch.allclose(G(z[:1], y[:1]), a[:1], atol=1e-6)
    with pytest.raises(ValueError, match="pass labels"):
        G(z)


@pytest.mark.parametrize("projection", [False, True])
def test_conditional_discriminator_respects_labels(projection):
    torch.manual_seed(0)
    D = build_discriminator(small_cfg("dcgan", projection=projection), (1, 28, 28), num_classes=10)
    for p in D.parameters():  # the DCGAN init (std 0.02) makes label effects tiny; widen them
        nn.init.normal_(p, 0, 0.2)
    x = torch.randn(4, 1, 28, 28)
    y = torch.tensor([0, 1, 2, 3])
    a, b = D(x, y), D(x, torch.tensor([3, 2, 1, 0]))
    assert a.shape == (4,)
    assert (a - b).abs().min() > 1e-4
    assert D.projection == projection and (D.embed is not None) == projection
    with pytest.raises(ValueError, match="pass labels"):
        D(x)


def test_projection_discriminator_is_inner_product_with_class_embedding():
    torch.manual_seed(0)
    D = DCGANDiscriminator((1, 8, 8), width=4, num_classes=3, projection=True)
    x = torch.randn(2, 1, 8, 8)
    y = torch.tensor([2, 0])
    h = D.features(x).flatten(1)
    expected = D.head(h).squeeze(1) + (D.embed.weight[y] * h).sum(1)
    assert torch.allclose(D(x, y), expected)


def test_projection_with_label_maps_has_both_conditionings():
    """model.projection_maps: the maps at D's input (1 + num_classes channels into its first conv) and the
    projection term at its end; D(x, y) = ψ(φ(x, y)) + embed(y)·φ(x, y)."""
    torch.manual_seed(0)
    D = DCGANDiscriminator((1, 8, 8), width=4, num_classes=3, projection=True, projection_maps=True)
    assert D.features[0].in_channels == 1 + 3 and D.embed is not None
    x = torch.randn(2, 1, 8, 8)
    y = torch.tensor([2, 0])
    maps = torch.eye(3)[y][:, :, None, None].expand(2, 3, 8, 8)
    h = D.features(torch.cat([x, maps], 1)).flatten(1)
    expected = D.head(h).squeeze(1) + (D.embed.weight[y] * h).sum(1)
    assert torch.allclose(D(x, y), expected, atol=1e-6)


def test_projection_maps_needs_projection():
    with pytest.raises(ConfigError, match="model.projection=true too"):
        small_cfg("dcgan", projection_maps=True)


def test_projection_needs_labels():
    with pytest.raises(ConfigError, match="data.conditional=true"):
        build_discriminator(small_cfg("dcgan", projection=True), (1, 8, 8), 0)


def test_unconditional_models_refuse_labels():
    G = DCGANGenerator(8, (1, 8, 8), width=4)
    with pytest.raises(ValueError, match="unconditional"):
        G(torch.randn(2, 8), torch.tensor([0, 1]))


def test_model_registry_errors_list_valid_names():
    with pytest.raises(ConfigError, match="unknown generator 'resnet'; valid choices: dcgan, mlp"):
        build_generator(ModelConfig(generator="resnet"), (1, 8, 8))
    with pytest.raises(ConfigError, match="unknown discriminator 'x'; valid choices: dcgan, mlp"):
        build_discriminator(ModelConfig(discriminator="x"), (1, 8, 8))


def test_config_refuses_bad_upsample():
    with pytest.raises(ConfigError, match="transpose, nearest"):
        ModelConfig(upsample="bilinear")


def test_g_width_sets_the_generators_channels_and_leaves_d_at_width():
    same = ModelConfig(generator="dcgan", discriminator="dcgan", width=8)
    wide = ModelConfig(generator="dcgan", discriminator="dcgan", width=8, g_width=12)
    assert build_generator(same, (1, 28, 28), 10).base_channels == 16  # 0 = model.width
    assert build_generator(wide, (1, 28, 28), 10).base_channels == 24
    d_same, d_wide = build_discriminator(same, (1, 28, 28), 10), build_discriminator(wide, (1, 28, 28), 10)
    assert [p.shape for p in d_same.parameters()] == [p.shape for p in d_wide.parameters()]
    with pytest.raises(ConfigError, match="model.g_width"):
        ModelConfig(g_width=-1)


def test_pack_stacks_consecutive_samples_along_channels():
    from ganforge.models.dcgan import pack_samples
    x = torch.arange(4 * 2 * 3 * 3, dtype=torch.float32).reshape(4, 2, 3, 3)
    packed = pack_samples(x, 2)
    assert packed.shape == (2, 4, 3, 3)
    torch.testing.assert_close(packed[1], torch.cat([x[2], x[3]]))
    with pytest.raises(ValueError, match="multiple of 2"):
        pack_samples(x[:3], 2)


def test_packed_conditional_d_scores_each_group_of_images_with_their_label_maps():
    torch.manual_seed(0)
    cfg = ModelConfig(generator="dcgan", discriminator="dcgan", width=8, d_dropout=0.0, d_batchnorm=True, pack=2)
    D = build_discriminator(cfg, (1, 28, 28), 10)
    x, y = torch.randn(6, 1, 28, 28), torch.tensor([3, 1, 4, 1, 5, 9])
    out = D(x, y)
    assert out.shape == (3,)
    maps = torch.nn.functional.one_hot(y, 10).float()[:, :, None, None].expand(-1, -1, 28, 28)
    by_hand = D.head(D.features(torch.cat([x, maps], 1).reshape(3, 22, 28, 28)).flatten(1)).squeeze(1)
    torch.testing.assert_close(out, by_hand)


def test_extra_convs_add_depth_at_the_last_resolutions():
    """model.g_extra_convs / d_extra_convs: n 3x3 stride-1 conv blocks at G's last hidden resolution and
    at D's last resolution; shapes are unchanged, D's label maps still add up, 0 is the plain network."""
    torch.manual_seed(0)
    base = dict(generator="dcgan", discriminator="dcgan", width=8, d_dropout=0.0, d_batchnorm=True)
    deep = ModelConfig(**base, g_extra_convs=2, d_extra_convs=1)
    G, D = build_generator(deep, (1, 28, 28), 10), build_discriminator(deep, (1, 28, 28), 10)
    convs = lambda net: [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in convs(G)] == [(8, 8, (3, 3), (1, 1))] * 2
    assert [(c.in_channels, c.out_channels, c.stride) for c in convs(D)] == [(11, 8, (2, 2)), (8, 16, (2, 2)),
                                                                           (16, 16, (1, 1))]
    plain = build_generator(ModelConfig(**base), (1, 28, 28), 10)
    assert not convs(plain) and len(G.net) == len(plain.net) + 6  # conv, BatchNorm, ReLU twice
    z, y = torch.randn(6, 100), torch.tensor([3, 1, 4, 1, 5, 9])
    x = G(z, y)
    assert x.shape == (6, 1, 28, 28) and x.abs().max() <= 1
    D.eval()
    maps = torch.nn.functional.one_hot(y, 10).float()[:, :, None, None].expand(-1, -1, 28, 28)
    by_hand = D.head(D.features(torch.cat([x, maps], 1)).flatten(1)).squeeze(1)
    torch.testing.assert_close(D(x, y), by_hand)
    with pytest.raises(ConfigError, match="model.generator=dcgan or model.g_extra_convs=0"):
        ModelConfig(generator="mlp", g_extra_convs=1)
    with pytest.raises(ConfigError, match="model.d_extra_convs"):
        ModelConfig(discriminator="dcgan", d_extra_convs=-1)


def test_pack_by_label_packs_images_of_one_class_together():
    """With model.pack_by_label, D sorts the batch by label (stably) before packing: its logits are
    those of the packed D on the sorted batch, so each pack holds one class where the counts allow."""
    torch.manual_seed(0)
    base = dict(generator="dcgan", discriminator="dcgan", width=8, d_dropout=0.0, d_batchnorm=True, pack=2)
    D = build_discriminator(ModelConfig(**base, pack_by_label=True), (1, 28, 28), 10).eval()
    plain = build_discriminator(ModelConfig(**base), (1, 28, 28), 10).eval()
    plain.load_state_dict(D.state_dict())
    x, y = torch.randn(8, 1, 28, 28, requires_grad=True), torch.tensor([7, 2, 7, 5, 2, 5, 0, 0])
    order = torch.tensor([6, 7, 1, 4, 3, 5, 0, 2])  # 0 0 | 2 2 | 5 5 | 7 7
    out = D(x, y)
    torch.testing.assert_close(out, plain(x[order], y[order]))
    assert not torch.allclose(out, plain(x, y))  # the unsorted packs (7, 2), (7, 5) ... score otherwise
    out.sum().backward()  # every image gets its gradient back in its own place
    assert all(x.grad[i].abs().sum() > 0 for i in range(8))


def test_pack_by_label_needs_packs_and_labels():
    with pytest.raises(ConfigError, match="model.pack=2"):
        ModelConfig(discriminator="dcgan", pack_by_label=True)
    with pytest.raises(ConfigError, match="data.conditional=true"):
        build_discriminator(ModelConfig(discriminator="dcgan", pack=2, pack_by_label=True), (1, 28, 28), 0)


def test_pack_is_refused_where_it_has_no_meaning():
    with pytest.raises(ConfigError, match="model.discriminator='mlp'"):
        ModelConfig(discriminator="mlp", pack=2)
    with pytest.raises(ConfigError, match="model.pack=1 or model.projection=false"):
        build_discriminator(ModelConfig(discriminator="dcgan", projection=True, pack=2), (1, 28, 28), 10)


@pytest.mark.parametrize("pack,spectral_norm", [(1, False), (2, False), (1, True), (3, True)])
def test_label_maps_first_conv_is_the_convolution_of_the_stacked_channels(pack, spectral_norm):
    """D computes conv([x; maps(y)]) as conv(x) + conv(maps(y)) from per-class maps: the output and
    every gradient (image, weights, bias) must equal those of the convolution of the stacked channels."""
    torch.manual_seed(0)
    D = DCGANDiscriminator((1, 28, 28), width=8, num_classes=10, batchnorm=True, pack=pack,
                           spectral_norm=spectral_norm).eval()  # eval: the power iteration stands still
    x, y = torch.randn(6, 1, 28, 28, requires_grad=True), torch.tensor([3, 1, 4, 1, 5, 9])
    D(x, y).square().sum().backward()
    fast = [x.grad.clone()] + [p.grad.clone() for p in D.parameters()]
    x.grad = None
    D.zero_grad()
    maps = torch.nn.functional.one_hot(y, 10).float()[:, :, None, None].expand(-1, -1, 28, 28)
    stacked = torch.cat([x, maps], 1).reshape(6 // pack, 11 * pack, 28, 28)
    D.head(D.features(stacked).flatten(1)).squeeze(1).square().sum().backward()
    by_hand = [x.grad] + [p.grad for p in D.parameters()]
    assert len(fast) == len(by_hand)
    for a, b in zip(fast, by_hand):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
