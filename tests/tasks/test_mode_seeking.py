"""The mode-seeking term (Mao et al. 2019, MSGAN; ``task.loss.mode_seeking``): its pairs, its
value and the direction of its gradient."""

import pytest
import torch

from ganforge.config import Config, LossConfig
from ganforge.errors import ConfigError
from ganforge.losses.diversity import EPS, mode_seeking_term, same_label_pairs


def _pairs(a, b):
    return sorted(zip(a.tolist(), b.tolist()))


def test_pairs_share_a_label_are_disjoint_and_in_batch_order():
    y = torch.tensor([3, 1, 3, 1, 3, 2, 1, 1])
    a, b = same_label_pairs(y, len(y))
    # class 1 at 1, 3, 6, 7 -> (1, 3), (6, 7); class 3 at 0, 2, 4 -> (0, 2), 4 left over; class 2 alone
    assert _pairs(a, b) == [(0, 2), (1, 3), (6, 7)]


def test_unconditional_pairs_are_the_two_halves():
    a, b = same_label_pairs(None, 5)
    assert _pairs(a, b) == [(0, 2), (1, 3)]


def test_term_is_one_over_the_ratio_of_mean_absolute_differences():
    torch.manual_seed(0)
    fake, z = torch.randn(4, 1, 2, 2), torch.randn(4, 3)
    y = torch.tensor([0, 1, 0, 1])  # pairs (0, 2) and (1, 3)
    images = ((fake[0] - fake[2]).abs().sum() + (fake[1] - fake[3]).abs().sum()) / (2 * 4)
    codes = ((z[0] - z[2]).abs().sum() + (z[1] - z[3]).abs().sum()) / (2 * 3)
    want = 1.0 / (images / codes + EPS)
    torch.testing.assert_close(mode_seeking_term(fake, z, y), want)


def test_collapsed_pair_is_penalised_and_the_gradient_pushes_the_images_apart():
    z = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    same = torch.zeros(2, 1, 2, 2, requires_grad=True)
    assert mode_seeking_term(same, z, torch.tensor([5, 5])).item() == pytest.approx(1 / EPS)
    fake = torch.stack([torch.zeros(1, 2, 2), torch.full((1, 2, 2), 0.5)]).requires_grad_(True)
    term = mode_seeking_term(fake, z, torch.tensor([5, 5]))
    assert term.item() == pytest.approx(1 / (0.5 / 1.0 + EPS))
    term.backward()
    # descending the term moves the first image down and the second up: further apart
    assert (fake.grad[0] > 0).all() and (fake.grad[1] < 0).all()


def test_no_pair_gives_zero():
    fake = torch.randn(3, 1, 2, 2, requires_grad=True)
    term = mode_seeking_term(fake, torch.randn(3, 2), torch.tensor([0, 1, 2]))
    assert term.item() == 0.0


# The step that adds the term: tests/tasks/test_gan_options.py (beside reuse_fake's textbook step).


def test_negative_lambda_is_refused_and_set_reaches_it():
    with pytest.raises(ConfigError, match=r"loss\.mode_seeking"):
        LossConfig(mode_seeking=-1.0)
    assert Config().override({"task.loss.mode_seeking": 1.0}).task.loss.mode_seeking == 1.0
