"""End-to-end `ganforge evaluate` on small synthetic 28x28 digits (sklearn's 8x8 digits,
upscaled x3 and padded), and the clear errors for bad inputs (exit code 2)."""

import json

import numpy as np
import pytest
import torch

from ganforge.cli import main
from ganforge.data.arrays import load_digits8
from ganforge.eval import EvalReport, aggregate, evaluate


def _digits28():
    x, y = load_digits8()
    big = np.kron(x, np.ones((3, 3), np.uint8))  # (N,24,24)
    return np.pad(big, ((0, 0), (2, 2), (2, 2))), y


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("evaldata")
    x, y = _digits28()
    perm = np.random.default_rng(0).permutation(len(x))
    x, y = x[perm], y[perm]
    paths = {}
    for name, sl in (("ref", slice(0, 600)), ("train", slice(600, 1200)), ("samples", slice(1200, 1500))):
        paths[name] = d / f"{name}.npz"
        np.savez(paths[name], images=x[sl], labels=y[sl])
    paths["copies"] = d / "copies.npz"
    np.savez(paths["copies"], images=x[600:900])  # training images passed off as samples
    paths["dir"] = d
    return paths


@pytest.fixture(autouse=True)
def home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("GANFORGE_HOME", str(tmp_path_factory.getbasetemp() / "gfhome"))


def test_evaluate_cli_end_to_end(files, capsys):
    out = files["dir"] / "report.json"
    rc = main(["evaluate", str(files["samples"]), "--ref", str(files["ref"]), "--train", str(files["train"]),
               "-n", "300", "--bootstrap", "10", "--json", str(out),
               "--closest-pairs", str(files["dir"] / "pairs.png")])
    assert rc == 0
    text = capsys.readouterr().out
    assert "FID" in text and "real floor" in text and "copy rate" in text
    rep = json.loads(out.read_text())
    proto = rep["protocol"]
    assert proto["num_samples"] == 300 and proto["reference_size"] == 600 and proto["seed"] == 0
    assert len(proto["reference_sha256"]) == 64 and len(proto["extractor_sha256"]) == 64
    assert proto["ganforge_version"]
    m = rep["metrics"]
    for key in ("fid", "kid", "classifier_score", "precision", "recall", "density", "coverage",
                "one_nn", "c2st_pixels", "copy_rate", "label_accuracy", "tstr"):
        assert key in m, key
        assert m[key]["floor"] is not None or key == "label_accuracy", key
    # The samples are real digits disjoint from the reference: near the floor.
    assert m["c2st_pixels"]["value"] < 0.7
    assert m["copy_rate"]["value"] < 5.0
    assert (files["dir"] / "pairs.png").exists()
    r = EvalReport.from_dict(rep)
    assert r["fid"].value == pytest.approx(m["fid"]["value"])


def test_training_images_as_samples_are_all_copies(files):
    x = np.load(files["copies"])["images"]
    rep = evaluate(x, ref=str(files["ref"]), train=str(files["train"]), n=300, bootstrap=0, pixel_c2st=False, floor=False)
    assert rep.value("copy_rate") == pytest.approx(100.0)
    assert rep.value("nn_train_distance") == pytest.approx(0.0, abs=1e-3)


def test_reference_equal_to_training_set_has_no_memorisation_floor(files):
    # A small folder evaluated against itself: the floor's "held-out" images would all be
    # training images (100 % copies by construction), so that floor is left out and said so.
    x = np.load(files["samples"])["images"]
    rep = evaluate(x, ref=str(files["train"]), train=str(files["train"]), n=100, bootstrap=0, pixel_c2st=False)
    assert rep["copy_rate"].floor is None and rep["nn_train_distance"].floor is None
    assert "memorisation floor" in rep.skipped
    assert rep["fid"].floor is not None and "halves" in rep.protocol.floor_set
    other = evaluate(x, ref=str(files["ref"]), train=str(files["train"]), n=100, bootstrap=0, pixel_c2st=False)
    assert other["copy_rate"].floor is not None and "memorisation floor" not in other.skipped


def test_runs_aggregate_mean_sd(files):
    x = np.load(files["samples"])["images"]
    reps = [evaluate(x[i * 100:(i + 1) * 100], ref=str(files["ref"]), n=100, bootstrap=0, pixel_c2st=False,
                     floor=False, memorisation=False, seed=i) for i in range(3)]
    agg = aggregate(reps)
    fids = [r.value("fid") for r in reps]
    assert agg.protocol.runs == 3 and agg.protocol.run_seeds == [0, 1, 2]
    assert agg.value("fid") == pytest.approx(np.mean(fids))
    assert agg["fid"].sd == pytest.approx(np.std(fids, ddof=1))
    json.loads(agg.to_json())


@pytest.mark.parametrize("case, message", [
    ("missing", "does not exist"),
    ("empty", "empty"),
    ("float", "uint8"),
    ("flat", "shape"),
    ("size", "same size"),
])
def test_bad_inputs_exit_2_with_one_sentence(files, case, message, capsys):
    d = files["dir"]
    path = d / f"bad-{case}.npz"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "float":
        np.savez(path, images=np.random.default_rng(0).uniform(-1, 1, (20, 28, 28)).astype(np.float32))
    elif case == "flat":
        np.savez(path, images=np.zeros((20, 784), np.uint8))
    elif case == "size":
        np.savez(path, images=np.zeros((20, 32, 32), np.uint8))
    rc = main(["evaluate", str(path), "--ref", str(files["ref"]), "-n", "20", "--no-floor"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_runs_on_a_file_is_a_usage_error(files, capsys):
    rc = main(["evaluate", str(files["samples"]), "--ref", str(files["ref"]), "--runs", "3"])
    assert rc == 2 and "--runs needs a checkpoint" in capsys.readouterr().err


class _TinyG(torch.nn.Module):
    """A generator with the library contract: G(z, y=None) -> (N,1,28,28) in [-1,1]."""

    z_dim, num_classes, img_shape = 8, 0, (1, 28, 28)

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.lin = torch.nn.Linear(8, 784)
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, z, y=None):
        return torch.tanh(self.drop(self.lin(z))).view(-1, 1, 28, 28)


def test_quick_fid_is_deterministic_and_restores_train_mode(files):
    from ganforge.eval import quick_fid

    from ganforge.sampler import GeneratorSampler

    G = GeneratorSampler(_TinyG().train(), z_dim=8, img_shape=(1, 28, 28), num_classes=0, scaling="tanh", kind="gan")
    a = quick_fid(G, n=200, seed=0, ref=str(files["ref"]))
    assert G.training
    b = quick_fid(G, n=200, seed=0, ref=str(files["ref"]))
    assert a == b and a > 0


def test_quick_metrics_add_the_classifier_score_of_the_same_samples(files):
    """--eval-every's classifier score is evaluate's classifier score of the same images."""
    from ganforge.eval import metrics as M
    from ganforge.eval.extractor import extract, load_extractor
    from ganforge.eval.quick import quick_fid, quick_metrics
    from ganforge.eval.sources import sampler_images
    from ganforge.sampler import GeneratorSampler

    G = GeneratorSampler(_TinyG(), z_dim=8, img_shape=(1, 28, 28), num_classes=0, scaling="tanh", kind="gan").eval()
    m = quick_metrics(G, n=200, seed=3, ref=str(files["ref"]))
    assert m["fid"] == quick_fid(G, n=200, seed=3, ref=str(files["ref"]))
    _, p = extract(sampler_images(G, 200, 3, 500)[0], load_extractor())
    assert m["classifier_score"] == M.classifier_score(p)[0] and 1 <= m["classifier_score"] <= 10


def test_evaluate_a_run_directory_with_seeds(tiny_cfg, tmp_path, capsys):
    """A checkpoint source is sampled (n images per seed); --runs aggregates seeds.
    8x8 digits: the MNIST extractor does not apply, so those metrics are reported as
    not computed while the pixel C2ST and the memorisation check still run."""
    from ganforge.data.arrays import load_digits8
    from ganforge.training import train

    run = train(tiny_cfg, runs_root=tmp_path, quiet=True).run_dir
    x, _ = load_digits8()
    np.savez(tmp_path / "ref.npz", images=x[:400])
    np.savez(tmp_path / "train.npz", images=x[400:])
    out = tmp_path / "e.json"
    rc = main(["evaluate", str(run), "--ref", str(tmp_path / "ref.npz"), "--train", str(tmp_path / "train.npz"),
               "-n", "100", "--runs", "2", "--bootstrap", "0", "--json", str(out),
               "--closest-pairs", str(tmp_path / "pairs.png")])
    assert rc == 0
    text = capsys.readouterr().out
    assert "not computed" in text and "MNIST classifier" in text
    rep = json.loads(out.read_text())
    assert rep["protocol"]["runs"] == 2 and rep["protocol"]["run_seeds"] == [0, 1]
    assert "c2st_pixels" in rep["metrics"] and "copy_rate" in rep["metrics"]
    assert rep["metrics"]["c2st_pixels"]["sd"] is not None
    # --runs used to drop --closest-pairs: now one figure per seed, the seed in its name.
    assert rep["figures"] == {f"closest pairs (seed {s})": str(tmp_path / f"pairs-seed{s}.png") for s in (0, 1)}
    assert (tmp_path / "pairs-seed0.png").exists() and (tmp_path / "pairs-seed1.png").exists()
