"""A conditional generator draws its classes with the shares of its training labels
(p(y) of the data, recorded in the checkpoint), or uniformly when asked or when an older
checkpoint did not record them."""

import json

import numpy as np
import pytest
import torch

from ganforge.errors import ConfigError
from ganforge.models.noise import sample_labels
from ganforge.sampler import Sampler


def _sampler(k=3):
    s = Sampler(img_shape=(1, 4, 4), num_classes=k, scaling="tanh", kind="gan")
    return s


def test_uniform_balanced_labels_are_i_mod_k():
    s = _sampler(3)
    assert s.label_shares == "uniform"
    np.testing.assert_array_equal(s.balanced_labels(7), [0, 1, 2, 0, 1, 2, 0])


def test_balanced_labels_follow_the_counts_with_largest_remainders():
    s = _sampler(3).use_class_counts([50, 30, 20])
    np.testing.assert_allclose(s.class_prior, [0.5, 0.3, 0.2])
    assert s.label_shares == "the training data's class shares"
    np.testing.assert_array_equal(np.bincount(s.balanced_labels(10), minlength=3), [5, 3, 2])
    # spread through the sequence, not sorted: the first half holds every class in its share
    np.testing.assert_array_equal(np.bincount(s.balanced_labels(1000)[:500], minlength=3), [250, 150, 100])
    # equal counts give exactly i mod K
    np.testing.assert_array_equal(_sampler(3).use_class_counts([5, 5, 5]).balanced_labels(9), np.arange(9) % 3)
    # 7 × (0.5, 0.3, 0.2) = (3.5, 2.1, 1.4): floors (3, 2, 1), the one left goes to the largest remainder
    np.testing.assert_array_equal(np.bincount(s.balanced_labels(7), minlength=3), [4, 2, 1])
    # MNIST's training counts at n = 10,000: every class within one sample of n·p
    mnist = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    got = np.bincount(_sampler(10).use_class_counts(mnist).balanced_labels(10000), minlength=10)
    assert got.sum() == 10000
    assert np.abs(got - 10000 * np.array(mnist) / 60000).max() < 1


def test_random_labels_follow_the_prior_and_the_seed():
    p = np.array([0.7, 0.2, 0.1])
    a = sample_labels(200_000, 3, torch.Generator().manual_seed(1), prior=p)
    b = sample_labels(200_000, 3, torch.Generator().manual_seed(1), prior=p)
    assert torch.equal(a, b)
    shares = np.bincount(a.numpy(), minlength=3) / len(a)
    sd = np.sqrt(p * (1 - p) / len(a))
    assert np.all(np.abs(shares - p) < 5 * sd), shares
    s = _sampler(3).use_class_counts([7, 2, 1])
    y = s.labels_for(200_000, None, torch.Generator().manual_seed(0))
    assert abs((y == 0).float().mean().item() - 0.7) < 0.01  # a request without labels uses the prior


def test_counts_none_restores_uniform_and_bad_counts_are_refused():
    s = _sampler(3).use_class_counts([1, 2, 3]).use_class_counts(None)
    assert s.class_prior is None
    with pytest.raises(ConfigError, match="3 non-negative"):
        _sampler(3).use_class_counts([1, 2])
    with pytest.raises(ConfigError, match="not all 0"):
        _sampler(3).use_class_counts([0, 0, 0])
    unconditional = Sampler(img_shape=(1, 4, 4), num_classes=0, scaling="tanh", kind="gan").use_class_counts([1])
    assert unconditional.class_prior is None and unconditional.balanced_labels(5) is None


def _skewed_npz(path):
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], [60, 30, 10])
    np.savez(path, images=rng.integers(0, 256, (100, 8, 8), dtype=np.uint8), labels=labels)
    return path


@pytest.fixture
def skewed_run(tiny_cfg, tmp_path):
    from ganforge.training import train

    cfg = tiny_cfg.override({"data.dataset": str(_skewed_npz(tmp_path / "skewed.npz")), "data.conditional": True,
                             "train.steps": 10})
    return train(cfg, runs_root=tmp_path / "runs", quiet=True).run_dir


def test_a_conditional_run_records_its_class_counts_and_samples_with_them(skewed_run):
    from ganforge.checkpoint import load_state, resolve
    from ganforge.sampling import load_sampler

    assert load_state(resolve(skewed_run))["class_counts"] == [60, 30, 10]
    s = load_sampler(skewed_run)
    np.testing.assert_allclose(s.class_prior, [0.6, 0.3, 0.1])
    np.testing.assert_array_equal(np.bincount(s.balanced_labels(20), minlength=3), [12, 6, 2])
    assert load_sampler(skewed_run, label_shares="uniform").class_prior is None
    with pytest.raises(ConfigError, match="label shares"):
        load_sampler(skewed_run, label_shares="natural")


def test_a_checkpoint_without_class_counts_samples_uniformly(skewed_run):
    from ganforge.checkpoint import resolve
    from ganforge.sampling import load_sampler

    state_file = resolve(skewed_run) / "state.json"
    state = json.loads(state_file.read_text())
    del state["class_counts"]  # as written before the field existed
    state_file.write_text(json.dumps(state))
    assert load_sampler(skewed_run).class_prior is None


def test_evaluate_and_sample_draw_the_data_shares_and_say_so(skewed_run, tmp_path):
    from ganforge.cli import main
    from ganforge.eval import evaluate

    kw = dict(ref=str(tmp_path / "skewed.npz"), n=20, floor=False, pixel_c2st=False, memorisation=False, bootstrap=0)
    rep = evaluate(skewed_run, **kw)
    assert rep.protocol.label_shares == "the training data's class shares"
    assert "labels drawn: the training data's class shares" in rep.table()
    assert evaluate(skewed_run, label_shares="uniform", **kw).protocol.label_shares == "uniform"
    with pytest.raises(ConfigError, match="label_shares"):
        evaluate(skewed_run, label_shares="natural", **kw)

    assert main(["sample", str(skewed_run), "-n", "1000", "-o", str(tmp_path / "s.npz")]) == 0
    y = np.load(tmp_path / "s.npz")["labels"]
    assert abs((y == 0).mean() - 0.6) < 0.06
    assert main(["sample", str(skewed_run), "-n", "1000", "-o", str(tmp_path / "u.npz"), "--label-shares", "uniform"]) == 0
    assert abs((np.load(tmp_path / "u.npz")["labels"] == 0).mean() - 1 / 3) < 0.06
