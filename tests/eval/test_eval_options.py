"""EvalOptions: checked at construction, passed whole through the list and runs loops
(no setting dropped, closest_pairs included), and ``evaluate(options=...)`` gives the
same numbers as the keywords."""

import importlib
from dataclasses import fields, replace

import numpy as np
import pytest

from ganforge.errors import ConfigError
from ganforge.eval import EvalOptions, EvalReport, Protocol, evaluate

# The module, not the function ``ganforge.eval.evaluate`` that shadows its name.
E = importlib.import_module("ganforge.eval.evaluate")


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """600 reference, 300 training and 300 sample 28x28 digits (sklearn's 8x8, upscaled)."""
    from ganforge.data.arrays import load_digits8

    x, y = load_digits8()
    x = np.pad(np.kron(x, np.ones((3, 3), np.uint8)), ((0, 0), (2, 2), (2, 2)))
    perm = np.random.default_rng(0).permutation(len(x))
    x, y = x[perm], y[perm]
    d = tmp_path_factory.mktemp("optdata")
    for name, sl in (("ref", slice(0, 600)), ("train", slice(600, 900)), ("a", slice(900, 1000)),
                     ("b", slice(1000, 1100))):
        np.savez(d / f"{name}.npz", images=x[sl], labels=y[sl])
    return d


def test_defaults_are_evaluates_defaults():
    import inspect

    sig = inspect.signature(evaluate).parameters
    for f in fields(EvalOptions):
        assert sig[f.name].default == f.default, f.name


@pytest.mark.parametrize("kw, message", [
    ({"n": 9}, "at least 10"),
    ({"runs": 0}, "runs"),
    ({"bootstrap": -1}, "bootstrap"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"kid_subsets": 0}, "kid_subsets"),
    ({"kid_subset_size": 1}, "kid_subset_size"),
    ({"c2st_per_side": 5}, "c2st_per_side"),
    ({"c2st_epochs": 0}, "c2st_epochs"),
    ({"copy_threshold": 0.0}, "copy_threshold"),
    ({"image_size": 0}, "image_size"),
    ({"floor": "yes"}, "floor"),
    ({"ref": ""}, "ref"),
    ({"labels": np.zeros((3, 2))}, "labels"),
])
def test_bad_settings_raise_one_sentence(kw, message):
    with pytest.raises(ConfigError, match=message) as e:
        EvalOptions(**kw)
    text = str(e.value)
    assert text.endswith(".") and text.count(". ") == 0


def test_numpy_integers_become_plain_ints_and_options_are_frozen():
    o = EvalOptions(n=np.int64(500), seed=np.int32(3))
    assert type(o.n) is int and type(o.seed) is int and (o.n, o.seed) == (500, 3)
    with pytest.raises(Exception):
        o.n = 10
    assert replace(o, seed=4).seed == 4 and replace(o, seed=4).n == 500
    with pytest.raises(ConfigError, match="at least 10"):
        replace(o, n=2)


def test_evaluate_checks_n_before_reading_anything(tmp_path):
    with pytest.raises(ConfigError, match="at least 10"):
        evaluate(tmp_path / "does-not-exist.npz", n=5)


def test_options_object_gives_the_same_numbers_as_keywords(digits):
    kw = dict(ref=str(digits / "ref.npz"), train=str(digits / "train.npz"), n=100, bootstrap=5, seed=2,
              pixel_c2st=False, floor=False, kid_subsets=10, kid_subset_size=50)
    a = evaluate(str(digits / "a.npz"), **kw)
    b = evaluate(str(digits / "a.npz"), options=EvalOptions(**kw))
    assert a.metrics == b.metrics and a.protocol.kid_subsets == b.protocol.kid_subsets == 10


def test_options_and_keywords_together_is_an_error(digits):
    with pytest.raises(ConfigError, match="options= and also n, seed"):
        evaluate(str(digits / "a.npz"), n=100, seed=1, options=EvalOptions(n=100))


def test_list_and_runs_pass_every_setting_on(tmp_path, monkeypatch):
    """Each part sees the caller's options, changed only in seed, runs and its figure path."""
    seen = []

    def fake_one(source, opts):
        seen.append((source, opts))
        proto = Protocol(str(source), opts.n, "ref", "0" * 64, 100, None, None, None, None, "0", opts.seed,
                         opts.bootstrap, opts.kid_subsets, opts.kid_subset_size, None, None, run_seeds=[opts.seed])
        return EvalReport(proto, {}, figures={"closest pairs": str(opts.closest_pairs)})

    monkeypatch.setattr(E, "_evaluate_one", fake_one)
    runs = []
    for name in ("r0", "r1"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "state.json").write_text("{}")
        runs.append(str(tmp_path / name))
    opts = EvalOptions(ref="elsewhere.npz", n=123, train="t.npz", seed=5, runs=2, bootstrap=7, floor=False,
                       pixel_c2st=False, memorisation=True, copy_threshold=0.2, kid_subsets=3, kid_subset_size=40,
                       c2st_per_side=60, c2st_epochs=2, closest_pairs=tmp_path / "pairs.png",
                       extractor_path="ext.safetensors", image_size=32, inception_weights="w.pth")
    rep = evaluate(runs, options=opts)
    assert [(s, o.seed) for s, o in seen] == [(runs[0], 5), (runs[0], 6), (runs[1], 5), (runs[1], 6)]
    for _, o in seen:
        assert replace(o, seed=5, runs=2, closest_pairs=opts.closest_pairs) == opts
    assert [o.closest_pairs.name for _, o in seen] == ["pairs-0-seed5.png", "pairs-0-seed6.png",
                                                       "pairs-1-seed5.png", "pairs-1-seed6.png"]
    assert rep.protocol.runs == 2 and list(rep.figures) == [
        "closest pairs (source 0, seed 5)", "closest pairs (source 0, seed 6)",
        "closest pairs (source 1, seed 5)", "closest pairs (source 1, seed 6)"]


def test_closest_pairs_for_a_list_of_sources(digits, tmp_path):
    """Before EvalOptions a list of sources silently dropped closest_pairs: now one figure
    per source, with the source's index before the suffix."""
    pairs = tmp_path / "pairs.png"
    rep = evaluate([str(digits / "a.npz"), str(digits / "b.npz")], ref=str(digits / "ref.npz"),
                   train=str(digits / "train.npz"), n=100, bootstrap=0, pixel_c2st=False, floor=False,
                   closest_pairs=pairs)
    assert rep.protocol.runs == 2
    assert rep.figures == {"closest pairs (source 0)": str(tmp_path / "pairs-0.png"),
                           "closest pairs (source 1)": str(tmp_path / "pairs-1.png")}
    assert (tmp_path / "pairs-0.png").stat().st_size > 0 and (tmp_path / "pairs-1.png").stat().st_size > 0
    assert not pairs.exists()
    # One source in a list is that source: the figure goes exactly where asked.
    one = evaluate([str(digits / "a.npz")], ref=str(digits / "ref.npz"), train=str(digits / "train.npz"),
                   n=100, bootstrap=0, pixel_c2st=False, floor=False, closest_pairs=pairs)
    assert one.figures == {"closest pairs": str(pairs)} and pairs.exists()
