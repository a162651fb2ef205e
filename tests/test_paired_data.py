"""Paired data: seeded degradations (deterministic, the same function for train and test),
A/B folders and side-by-side AB images, the test split kept out of training, bad inputs."""

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.config import Config, DataConfig
from ganforge.data.batches import DeviceBatcher, Feed, to_model_range
from ganforge.data.degrade import degrade, degrade_seeded, parse_degradation
from ganforge.data.paired import TEST_SEED, load_paired, split_indices
from ganforge.errors import ConfigError, DataError
from ganforge.models.noise import sample_z


def _images(n=4, c=1, s=8, seed=0):
    return torch.rand(n, c, s, s, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.mark.parametrize("name", ["downsample:2", "downsample:4", "edges", "mask", "gray", "noise:0.2"])
def test_degradations_are_deterministic_per_seed(name):
    d = parse_degradation(name)
    x = _images(c=3 if name == "gray" else 1)
    a, b = degrade_seeded(x, d, 7), degrade_seeded(x, d, 7)
    assert torch.equal(a, b) and a.shape[1:] == d.input_shape(tuple(x.shape[1:]))
    assert a.min() >= -1 and a.max() <= 1
    assert torch.allclose(((a + 1) * 127.5).round(), (a + 1) * 127.5, atol=1e-4)  # on the 256 uint8 levels
    if name in ("mask", "noise:0.2"):
        assert not torch.equal(a, degrade_seeded(x, d, 8))  # the seed matters for the random ones


def test_degradations_against_hand_values():
    x = -torch.ones(1, 1, 8, 8)
    x[0, 0, 3, 3] = 1.0  # one white pixel on black
    e = degrade(x, parse_degradation("edges"))
    # dilation minus image: its 8 neighbours become white (1 on [0,1]), the pixel itself 0
    assert (e[0, 0] == 1).sum() == 8 and e[0, 0, 3, 3] == -1 and e[0, 0, 2, 2] == 1
    m = degrade(torch.ones(1, 1, 8, 8), parse_degradation("mask"), torch.tensor([[-1.0, 0.999]]))
    hole = m[0, 0].abs() < 0.01  # mid-grey (uint8 128)
    assert hole.sum() == 16 and hole[0:4, 4:8].all()  # a 4x4 hole at the top right
    g = degrade(torch.stack([torch.full((2, 2), v) for v in (1.0, -1.0, -1.0)])[None], parse_degradation("gray"))
    assert g.shape == (1, 1, 2, 2) and abs(g[0, 0, 0, 0].item() - (0.299 - 0.587 - 0.114)) < 1 / 127.5
    lo = degrade(torch.full((2, 1, 8, 8), 0.2), parse_degradation("downsample:4"))
    assert lo.shape == (2, 1, 2, 2) and torch.allclose(lo, torch.tensor(0.2), atol=1 / 255)  # a flat image stays flat


def test_training_and_test_degradation_are_one_function():
    """The step's inputs (draws from the Feed's noise generator) equal the test function's
    (draws from a generator with the same seed) for the same images."""
    d = parse_degradation("mask")
    x = (torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(3)) * 255).to(torch.uint8)
    feed = Feed(DeviceBatcher(x, None, 6, seed=0), 6, noise_seed=11)
    batch, _ = feed.batch()
    train_in = degrade(to_model_range(batch), d, feed.z(2, "uniform"))
    test_in = degrade_seeded(to_model_range(batch), d, 11)
    assert torch.equal(train_in, test_in)
    assert torch.equal(sample_z(6, 2, "uniform", torch.Generator().manual_seed(11)),
                       sample_z(6, 2, "uniform", torch.Generator().manual_seed(11)))


def test_digits_split_keeps_test_pairs_out_of_training():
    x, info = load_paired(DataConfig(dataset="digits", pairs="noise:0.1"))
    from ganforge.data.arrays import load_digits8

    full, _ = load_digits8()
    tr, te = split_indices(len(full))
    assert len(x) + len(info.test_targets) == len(full) and len(set(tr) & set(te)) == 0
    train_set = {bytes(a) for a in x.numpy()}
    assert not any(bytes(t) in train_set for t in info.test_targets.numpy() if bytes(t) not in
                   {bytes(full[i][None]) for i in tr})
    assert torch.equal(info.test_targets[:, 0], torch.from_numpy(full[te]))
    inputs, targets, labels = info.test()
    assert torch.equal(inputs, degrade_seeded(targets, info.degradation, TEST_SEED)) and labels is not None
    assert info.input_shape == info.target_shape == (1, 8, 8)


def test_mnist_uses_its_own_test_split():
    x, info = load_paired(DataConfig(dataset="mnist", pairs="downsample:4"))
    assert len(x) == 60000 and len(info.test_targets) == 10000
    assert info.input_shape == (1, 7, 7) and info.scale == 4 and info.test_inputs.shape == (10000, 1, 7, 7)


def _save(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def test_ab_folders_and_side_by_side(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)
    for i in range(5):
        _save(tmp_path / "sr" / "A" / f"{i}.png", a[i])
        _save(tmp_path / "sr" / "B" / f"{i}.png", b[i])
        _save(tmp_path / "ab" / f"{i}.png", np.concatenate([a[i], a[i][::-1]], 1))
    x, info = load_paired(DataConfig(dataset=str(tmp_path / "sr"), pairs="A/B"))
    assert info.scale == 2 and x.shape == (4, 6, 16, 16)
    inp, tgt = info.split(x)
    tr, _ = split_indices(5)
    assert torch.equal(inp, to_model_range(torch.from_numpy(a[tr]).permute(0, 3, 1, 2)))
    assert torch.equal(tgt, to_model_range(torch.from_numpy(b[tr]).permute(0, 3, 1, 2)))
    x, info = load_paired(DataConfig(dataset=str(tmp_path / "ab"), pairs="AB"))
    inp, tgt = info.split(x)
    assert torch.equal(tgt, inp.flip(2))


def test_bad_paired_inputs(tmp_path):
    px = np.zeros((8, 8), np.uint8)
    _save(tmp_path / "un" / "A" / "x.png", px)
    _save(tmp_path / "un" / "B" / "y.png", px)
    with pytest.raises(DataError, match="x.png is in A/ but has no file of the same name in B/"):
        load_paired(DataConfig(dataset=str(tmp_path / "un"), pairs="A/B"))
    _save(tmp_path / "sz" / "A" / "x.png", px)
    _save(tmp_path / "sz" / "B" / "x.png", np.zeros((12, 12), np.uint8))
    with pytest.raises(DataError, match="must be the input's size"):
        load_paired(DataConfig(dataset=str(tmp_path / "sz"), pairs="A/B"))
    _save(tmp_path / "mix" / "A" / "x.png", px)
    _save(tmp_path / "mix" / "A" / "y.png", np.zeros((4, 4), np.uint8))
    for n in ("x", "y"):
        _save(tmp_path / "mix" / "B" / f"{n}.png", px)
    with pytest.raises(DataError, match="differ in size"):
        load_paired(DataConfig(dataset=str(tmp_path / "mix"), pairs="A/B"))
    _save(tmp_path / "sq" / "0.png", px)
    _save(tmp_path / "sq" / "1.png", px)
    with pytest.raises(DataError, match="twice as wide"):
        load_paired(DataConfig(dataset=str(tmp_path / "sq"), pairs="AB"))
    with pytest.raises(DataError, match="gray .* needs RGB"):
        load_paired(DataConfig(dataset="digits", pairs="gray"))
    with pytest.raises(ConfigError, match="data.pairs"):
        Config(data=DataConfig(pairs="downsample:3"))
