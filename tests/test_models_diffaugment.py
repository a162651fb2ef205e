"""DiffAugment (Zhao et al. 2020): shapes, gradients, what each policy may change, and
that it acts on D only in training mode."""

import pytest
import torch

from ganforge.config import Config, ModelConfig
from ganforge.errors import ConfigError
from ganforge.models import build_discriminator
from ganforge.models.diffaugment import attach_diffaugment, diff_augment, rand_color, rand_cutout, rand_translation


def test_augmentation_keeps_shape_and_passes_gradients():
    torch.manual_seed(0)
    x = torch.randn(6, 3, 16, 16, requires_grad=True)
    y = diff_augment(x, "color,translation,cutout")
    assert y.shape == x.shape and y.dtype == x.dtype and y.is_contiguous()
    (y ** 2).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_translation_is_a_zero_padded_shift_of_at_most_an_eighth():
    torch.manual_seed(1)
    x = torch.randn(8, 2, 16, 16)
    y = rand_translation(x)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))  # 16/8 = 2 pixels at most
    for i in range(len(x)):
        shifts = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                  if torch.equal(y[i], padded[i, :, 2 + dy:18 + dy, 2 + dx:18 + dx])]
        assert shifts, f"image {i} is not a shift of its input"


def test_cutout_zeroes_one_square_of_half_the_side_and_nothing_else():
    torch.manual_seed(2)
    x = torch.rand(16, 1, 8, 8) + 1  # no zeros of its own
    y = rand_cutout(x)
    zero = y == 0
    assert torch.equal(y[~zero], x[~zero])
    for i in range(len(x)):
        rows, cols = zero[i, 0].nonzero(as_tuple=True)
        assert 0 < len(rows) <= 16  # a 4x4 square, clipped at the border
        assert rows.max() - rows.min() < 4 and cols.max() - cols.min() < 4
        assert len(rows) == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)  # a rectangle


def test_color_is_one_affine_map_per_grey_image():
    torch.manual_seed(3)
    x = torch.rand(4, 1, 8, 8) * 2 - 1
    y = rand_color(x)
    for i in range(len(x)):  # one channel: saturation is the identity, brightness+contrast are affine
        a, b = torch.linalg.lstsq(torch.stack([x[i].flatten(), torch.ones(64)], 1), y[i].flatten()[:, None]).solution
        assert torch.allclose(a * x[i] + b, y[i], atol=1e-5)
        assert not torch.allclose(y[i], x[i])


def test_hook_acts_only_while_d_trains_and_keeps_checkpoint_keys():
    cfg = ModelConfig(generator="dcgan", discriminator="dcgan", width=8, d_batchnorm=False, d_dropout=0.0)
    plain = build_discriminator(cfg, (1, 8, 8))
    policy = Config(model=cfg).with_sets(["model.diffaugment=translation,cutout"]).task.diffaugment
    aug = attach_diffaugment(build_discriminator(cfg, (1, 8, 8)), policy)
    aug.load_state_dict(plain.state_dict())
    assert set(aug.state_dict()) == set(plain.state_dict())
    x = torch.rand(5, 1, 8, 8) * 2 - 1
    plain.eval(), aug.eval()
    assert torch.equal(aug(x), plain(x))
    aug.train()
    torch.manual_seed(0)
    assert not torch.allclose(aug(x), plain(x))


def test_config_parses_the_policy_list_and_refuses_unknown_names():
    cfg = Config().with_sets(["model.diffaugment=color,cutout"])  # the key of release 0.1, now task.diffaugment
    assert cfg.task.diffaugment == "color,cutout"
    with pytest.raises(ConfigError, match="color, translation, cutout"):
        Config().with_sets(["model.diffaugment=color,flip"])
