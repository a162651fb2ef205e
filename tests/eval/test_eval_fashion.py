"""The Fashion-MNIST extractor: shipped with its hash pinned, picked for clothes, never
used for digits (nor the MNIST one for clothes), recorded in the protocol."""

import json

import numpy as np
import pytest

from ganforge.data import fashion
from ganforge.errors import DataError
from ganforge.eval import evaluate
from ganforge.eval.extractor import (
    FASHION_META_PATH, FASHION_WEIGHTS_PATH, SHIPPED_SHA256, data_kind, extract, load_extractor,
)
from ganforge.eval.features import FASHION_FEATURE_SPACE, MNIST_FEATURE_SPACE, extractor_kind
from ganforge.files import sha256_file


def _clothes28(n=400, seed=0):
    """Stand-ins with Fashion-MNIST's shape: sklearn's 8x8 digits upscaled to 28x28, labels 0..9."""
    from ganforge.data.arrays import load_digits8

    x, y = load_digits8()
    x = np.pad(np.kron(x, np.ones((3, 3), np.uint8)), ((0, 0), (2, 2), (2, 2)))
    perm = np.random.default_rng(seed).permutation(len(x))[:n]
    return x[perm], y[perm]


@pytest.fixture
def fake_fashion(monkeypatch):
    """load_fashion_mnist answers from small stand-in arrays (no package, no network)."""
    x, y = _clothes28(600)
    parts = {"train": (x[:400], y[:400]), "test": (x[400:], y[400:])}
    monkeypatch.setattr(fashion, "load_fashion_mnist", lambda split="train": parts[split])
    return parts


def test_shipped_fashion_weights_match_the_pinned_hash_and_accuracy():
    meta = json.loads(FASHION_META_PATH.read_text())
    assert sha256_file(FASHION_WEIGHTS_PATH) == meta["sha256"] == SHIPPED_SHA256["fashion-mnist"]
    assert meta["test_accuracy"] >= 0.90
    assert "ganforge's own split" in meta["protocol"]["train_data"]
    ext = load_extractor(dataset="fashion-mnist")
    assert ext.feature_space == FASHION_FEATURE_SPACE and ext.sha256 != load_extractor().sha256
    f, p = extract(_clothes28(5)[0], ext)
    assert f.shape == (5, 128) and p.shape == (5, 10)


def test_data_kinds_and_mismatches_are_refused_in_one_sentence():
    assert data_kind("fashion-mnist-train") == "fashion-mnist" and data_kind("mnist") == "mnist"
    assert data_kind("samples.npz") is None and data_kind("digits") is None
    assert extractor_kind("fashion-mnist-test") == "fashion-mnist"
    assert extractor_kind("ref.npz", "fashion-mnist") == "fashion-mnist"   # the run's training data decides
    assert extractor_kind("ref.npz", None, "fashion-mnist") == "fashion-mnist"
    assert extractor_kind("ref.npz") == "mnist" and extractor_kind("mnist-test", "mnist") == "mnist"
    cases = [
        (("mnist-test", "fashion-mnist", None), "trained on fashion-mnist .clothes. but the reference mnist-test "
                                                "holds digits; evaluate against --ref fashion-mnist-test"),
        (("fashion-mnist-test", None, "mnist"), "--extractor mnist scores digits but the reference "
                                                "fashion-mnist-test holds clothes"),
        (("mnist-test", None, "fashion-mnist"), "scores clothes but the reference mnist-test holds digits"),
        (("ref.npz", "fashion-mnist-train", "mnist"), "pass --extractor fashion-mnist"),
    ]
    for args, message in cases:
        with pytest.raises(DataError, match=message) as e:
            extractor_kind(*args)
        text = str(e.value)
        assert text.endswith(".") and text.count(". ") == 0, text  # one sentence


def test_evaluate_a_fashion_shaped_sample_records_its_extractor(tmp_path, capsys):
    from ganforge.cli import main

    x, y = _clothes28(500)
    np.savez(tmp_path / "ref.npz", images=x[:300], labels=y[:300])
    np.savez(tmp_path / "s.npz", images=x[300:])
    out = tmp_path / "e.json"
    rc = main(["evaluate", str(tmp_path / "s.npz"), "--ref", str(tmp_path / "ref.npz"), "-n", "200",
               "--extractor", "fashion-mnist", "--bootstrap", "0", "--no-pixel-c2st", "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert f"feature space: {FASHION_FEATURE_SPACE}" in text
    assert "class shares (%): T-shirt/top" in text and "Ankle boot" in text
    proto = json.loads(out.read_text())["protocol"]
    assert proto["feature_space"] == FASHION_FEATURE_SPACE
    assert proto["extractor_sha256"] == SHIPPED_SHA256["fashion-mnist"]
    # The same images in the MNIST space: another extractor, another FID, both recorded.
    rep = evaluate(x[300:], ref=str(tmp_path / "ref.npz"), n=200, bootstrap=0, pixel_c2st=False, floor=False)
    assert rep.protocol.feature_space == MNIST_FEATURE_SPACE
    assert rep.protocol.extractor_sha256 == SHIPPED_SHA256["mnist"]


def test_fashion_reference_picks_the_clothes_extractor_and_refuses_digits(fake_fashion, tmp_path):
    x, _ = _clothes28(100, seed=1)
    rep = evaluate(x, ref="fashion-mnist-test", n=100, bootstrap=0, pixel_c2st=False)
    assert rep.protocol.feature_space == FASHION_FEATURE_SPACE
    assert rep.protocol.train_set == "fashion-mnist-train"  # its training set, for memorisation and the floor
    assert rep["fid"].floor is not None
    with pytest.raises(DataError, match="--extractor mnist scores digits but the reference fashion-mnist-test"):
        evaluate(x, ref="fashion-mnist-test", n=100, extractor="mnist", floor=False)


def test_a_run_trained_on_fashion_is_scored_as_clothes(fake_fashion, tiny_cfg, tmp_path):
    from ganforge.training import train

    cfg = tiny_cfg.override({"data.dataset": "fashion-mnist"})
    run = train(cfg, runs_root=tmp_path, quiet=True).run_dir
    x, y = _clothes28(300, seed=2)
    np.savez(tmp_path / "ref.npz", images=x, labels=y)
    rep = evaluate(run, ref=str(tmp_path / "ref.npz"), n=100, bootstrap=0, pixel_c2st=False, floor=False)
    assert rep.protocol.feature_space == FASHION_FEATURE_SPACE  # from the run's config.json
    with pytest.raises(DataError, match="trained on fashion-mnist .clothes.; pass --extractor fashion-mnist"):
        evaluate(run, ref=str(tmp_path / "ref.npz"), n=100, extractor="mnist", floor=False)


def test_quick_fid_picks_the_reference_of_the_runs_data(fake_fashion):
    import torch

    from ganforge.eval.quick import quick_fid, quick_reference
    from ganforge.sampler import GeneratorSampler

    assert quick_reference("fashion-mnist") == "fashion-mnist-test" and quick_reference("mnist") == "mnist-test"
    assert quick_reference(None) == "mnist-test"

    class G(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(8, 784)

        def forward(self, z, y=None):
            return torch.tanh(self.lin(z)).view(-1, 1, 28, 28)

    torch.manual_seed(0)
    s = GeneratorSampler(G(), z_dim=8, img_shape=(1, 28, 28), num_classes=0, scaling="tanh", kind="gan")
    a = quick_fid(s, n=100, seed=0, dataset="fashion-mnist")
    assert a == quick_fid(s, n=100, seed=0, ref="fashion-mnist-test") and a > 0
    with pytest.raises(DataError, match="holds digits"):
        quick_fid(s, n=100, seed=0, ref="mnist-test", dataset="fashion-mnist")
