"""The internal classifiers' fit loop and latent optimisation (ganforge.optim)."""

import pytest
import torch
from torch import nn

from ganforge.optim import _batch_indices, accuracy, fit_classifier, optimize_latents


def test_epochs_visit_every_item_once_per_pass_last_batch_smaller():
    batches = list(_batch_indices(10, 4, torch.Generator().manual_seed(0), steps=99, epochs=2))
    assert [len(b) for b in batches] == [4, 4, 2, 4, 4, 2]
    for epoch in (batches[:3], batches[3:]):
        assert sorted(torch.cat(epoch).tolist()) == list(range(10))


def test_draws_give_steps_batches_with_replacement():
    batches = list(_batch_indices(5, 8, torch.Generator().manual_seed(0), steps=3, epochs=None))
    assert len(batches) == 3 and all(len(b) == 8 and int(b.max()) < 5 for b in batches)


def _two_blobs(n=200):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 2
    x = torch.randn(n, 2, generator=g) * 0.3 + (y[:, None] * 2 - 1).float()
    return x, y


def test_one_output_column_trains_a_logistic_classifier_with_onecycle_epochs():
    x, y = _two_blobs()
    torch.manual_seed(0)
    model = fit_classifier(nn.Linear(2, 1), x, y, epochs=3, batch_size=32, lr=0.05, weight_decay=0.0,
                           schedule="onecycle")
    assert not model.training
    assert ((model(x)[:, 0] > 0).long() == y).float().mean() == 1.0


def test_many_columns_use_cross_entropy_and_seeded_fits_repeat_exactly():
    x, y = _two_blobs()
    fits = []
    for _ in range(2):
        torch.manual_seed(0)
        fits.append(fit_classifier(nn.Linear(2, 2), x, y, steps=60, batch_size=16, lr=0.05, seed=3))
    assert accuracy(fits[0], x, y) == 1.0
    assert all(torch.equal(a, b) for a, b in zip(fits[0].parameters(), fits[1].parameters()))


def test_fit_classifier_refuses_unknown_schedule_and_extra_with_epochs():
    x, y = _two_blobs(8)
    with pytest.raises(ValueError, match="schedule"):
        fit_classifier(nn.Linear(2, 2), x, y, steps=1, schedule="step")
    with pytest.raises(ValueError, match="extra"):
        fit_classifier(nn.Linear(2, 2), x, y, epochs=1, extra=(x, y))


def test_optimize_latents_keeps_the_best_z_per_row():
    target = torch.tensor([[1.0, -2.0], [0.5, 0.5]])
    z, loss = optimize_latents(torch.zeros(2, 2), lambda z: ((z - target) ** 2).sum(1), steps=300, lr=0.05)
    assert torch.allclose(z, target, atol=1e-3) and float(loss.max()) < 1e-5
    assert not z.requires_grad and not loss.requires_grad
