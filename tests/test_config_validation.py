"""Validation at construction (issue 21): config values, labels, devices, output paths and the
streaming column reader, each refused in one sentence; plus a property-based test that
throws generated values at ``--set`` for every key of every preset."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ganforge.config import Config, ConfigError, GANConfig, OptimConfig, TrainConfig, load_config_file
from ganforge.presets import PRESETS, preset_config


def _flat_keys(d: dict, prefix: str = "") -> list[str]:
    return [k2 for k, v in d.items() for k2 in (_flat_keys(v, f"{prefix}{k}.") if isinstance(v, dict) else [prefix + k])]


KEYS = sorted({(p, k) for p in PRESETS.names() for k in _flat_keys(preset_config(p).to_dict())})


def _one_sentence(exc: Exception) -> None:
    msg = str(exc)
    assert msg and "\n" not in msg and "\r" not in msg, repr(msg)


@pytest.mark.parametrize("pair, needle", [
    ("task.g_optim.lr=nan", "finite"),
    ("task.d_optim.lr=Infinity", "finite"),
    ("g_optim.lr=NaN", "finite"),  # a key of release 0.1 (LEGACY) is checked the same way
    ("task.g_optim.betas=0.5", "exactly 2"),
    ("task.g_optim.betas=[0.5,0.9,0.99]", "exactly 2"),
    ("task.g_optim.betas=[0.5,1.0]", "[0, 1)"),
    ("task.g_optim.betas=[NaN,0.9]", "[0, 1)"),
    ("task.g_optim.momentum=-0.5", "[0, 1)"),
    ("train.threads=-1", "train.threads"),
    ("train.seed=-1", "train.seed"),
    (f"train.seed={2 ** 64}", "64-bit"),
    ("train.device=foo", "not a device"),
    ("train.device=cuda:x", "not a device"),
    ("task.loss.penalty_weight=-1", "penalty_weight"),
    ("task.loss.penalty_weight=NaN", "penalty_weight"),
    ("loss.clip=NaN", "loss.clip"),
    ("train.steps=1e400", "expects int"),
    ("train.steps=true", "expects int"),
    ("train.bf16=2", "expects bool"),
    ("model.g_hidden=[64.5]", "expects int"),
    ("model.g_hidden=[0]", "g_hidden"),
    ("model.z_dim=1000000", "at most"),
    ("model.generator={}", "expects str"),
    ("name=../x", "run directory"),
    ("name=", "run directory"),
    ("data.dataset=", "data.dataset is empty"),
])
def test_bad_values_are_one_sentence(pair, needle):
    with pytest.raises(ConfigError) as e:
        preset_config("digits-mlp").with_sets([pair])
    _one_sentence(e.value)
    assert needle in str(e.value)


@pytest.mark.parametrize("pair", ["train.device=cpu", "train.device=cuda", "train.device=cuda:3", "train.device=mps",
                                  "train.seed=0", f"train.seed={2 ** 63 - 1}", "train.threads=0",
                                  "task.loss.penalty_weight=0", "task.g_optim.betas=[0,0.99]", "loss.penalty=gp",
                                  "train.d_steps=5", "model.ema=0.999", "name=my_run-2.b"])
def test_good_values_still_pass(pair):
    cfg = preset_config("digits-mlp").with_sets([pair])
    assert Config.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_python_api_is_type_checked():
    with pytest.raises(ConfigError, match="expects int"):
        TrainConfig(steps="10")
    with pytest.raises(ConfigError, match="exactly 2"):
        OptimConfig(betas=(0.5,))
    with pytest.raises(ConfigError, match="finite"):
        GANConfig(g_optim=OptimConfig(lr=math.nan))
    assert OptimConfig(betas=[0.5, 0.9]).betas == (0.5, 0.9)  # a list becomes the tuple


def test_every_preset_is_valid_and_round_trips():
    for name in PRESETS.names():
        cfg = preset_config(name)
        assert Config.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


@pytest.mark.parametrize("text, needle", [("[1, 2]", "list"), ("null", "null"), ("5", "int"), ('"x"', "str")])
def test_config_file_top_level_must_be_a_table(tmp_path, text, needle):
    f = tmp_path / "c.json"
    f.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_config_file(f)
    _one_sentence(e.value)
    assert needle in str(e.value) and "top level" in str(e.value)


def test_config_file_folder_and_good_file(tmp_path):
    with pytest.raises(ConfigError, match="is a folder"):
        load_config_file(tmp_path)
    (tmp_path / "c.toml").write_text("[train]\nsteps = 3\n")
    assert load_config_file(tmp_path / "c.toml") == {"train": {"steps": 3}}


def test_require_device():
    import torch

    from ganforge.devices import require_device

    assert require_device("cpu") == torch.device("cpu")
    for bad in ("foo", "", "cuda:-1", "gpu"):
        with pytest.raises(ConfigError, match="not a device"):
            require_device(bad)
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA device"):
            require_device("cuda")
    n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if n:
        assert require_device("cuda:0").type == "cuda"
        with pytest.raises(ConfigError, match=f"has {n}"):
            require_device(f"cuda:{n}")


@pytest.mark.parametrize("labels, needle", [
    (np.arange(15), "15 labels for 20 images"),
    (np.arange(20) - 1, "negative label"),
    (np.arange(20) / 2, "not a whole number"),
    (np.where(np.arange(20) == 3, np.nan, 1.0), "not a whole number"),
    (np.zeros((20, 2)), "shaped (20, 2)"),
    (np.array(["a"] * 20), "labels"),
    (np.full(20, 10 ** 9), "below 65536"),
])
def test_labels_are_checked_when_loaded(tmp_path, labels, needle):
    from ganforge.data import load_images
    from ganforge.errors import DataError

    path = tmp_path / "d.npz"
    np.savez(path, images=np.zeros((20, 8, 8), np.uint8), labels=labels)
    with pytest.raises(DataError) as e:
        load_images(str(path))
    _one_sentence(e.value)
    assert needle in str(e.value)


def test_good_float_labels_become_int64(tmp_path):
    from ganforge.data import load_images

    path = tmp_path / "d.npz"
    np.savez(path, images=np.zeros((4, 8, 8), np.uint8), labels=np.array([0.0, 1.0, 2.0, 1.0]))
    assert load_images(str(path)).labels.dtype == np.int64


def test_output_path_checks(tmp_path):
    from ganforge.files import check_output_dir, check_output_file

    (tmp_path / "f").write_text("x")
    (tmp_path / "d.png").mkdir()
    with pytest.raises(ConfigError, match="is a folder"):
        check_output_file(tmp_path / "d.png")
    with pytest.raises(ConfigError, match="is a file"):
        check_output_file(tmp_path / "f" / "x.png")
    with pytest.raises(ConfigError, match="is a file"):
        check_output_dir(tmp_path / "f")
    with pytest.raises(ConfigError, match="is a file"):
        check_output_dir(tmp_path / "f" / "sub" / "deeper")
    with pytest.raises(ConfigError, match="must end in .png"):
        check_output_file(tmp_path / "x.txt", suffixes=(".png",))
    assert check_output_file(tmp_path / "new" / "x.png") == tmp_path / "new" / "x.png"
    assert check_output_dir(tmp_path / "new" / "dir") == tmp_path / "new" / "dir"
    assert not (tmp_path / "new").exists()  # checking creates nothing


# ----------------------------------------------------------------------------- the streaming column reader


def test_streaming_reader_matches_and_reports_lines(tmp_path):
    from ganforge.errors import DataError
    from ganforge.onedim.io import read_column

    f = tmp_path / "h.csv"
    f.write_text("# a comment\nsex,height\n" + "".join(f"{'FM'[i % 2]},{150 + i}\n" for i in range(300)))
    col = read_column(f, "height", by="sex")
    assert col.values.dtype == np.float64 and len(col.values) == 300 and col.values[5] == 155
    assert list(col.split()) == ["F", "M"] and len(col.split()["M"]) == 150
    f.write_text("height\n" + "".join(f"{150 + i}\n" for i in range(300)) + "tall\n" * 7 + "NaN\n")
    with pytest.raises(DataError, match=r"non-numeric cells at lines 302, 303, 304, 305, 306 \(and 2 more\)"):
        read_column(f)
    f.write_text("height\n" + "".join(f"{150 + i}\n" for i in range(300)) + "NaN\n")
    with pytest.raises(DataError, match="1 missing/NaN/inf value.* at line 302;"):
        read_column(f)
    assert len(read_column(f, dropna=True).values) == 300
    t = tmp_path / "h.txt"
    t.write_text("1.5 2.5 3.5 4.5 5.5 6.5 7.5 8.5 9.5\n")  # one sample on one line
    assert len(read_column(t).values) == 9
    f.write_text("x" * (2 << 20))
    with pytest.raises(DataError, match="longer than"):
        read_column(f)


# ----------------------------------------------------------------------------- property-based: --set for every key


_scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["nan", "NaN", "-inf", "Infinity", "1e400", "-0", "0x10", "cuda:99", "gp", "adam", "true", ""]),
)
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                       max_leaves=6)


def _raw(value) -> str:
    """What a user would type after ``KEY=``: JSON for structured values, the text itself for strings."""
    return value if isinstance(value, str) else json.dumps(value)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(KEYS), value=_values, text=st.booleans())
def test_set_any_value_is_a_config_or_one_sentence(key, value, text):
    """Every key of every preset, any value: a valid Config (that round-trips) or one ConfigError
    sentence; never another exception."""
    preset, k = key
    raw = str(value) if text else _raw(value)
    try:
        cfg = preset_config(preset).with_sets([f"{k}={raw}"])
    except ConfigError as exc:
        _one_sentence(exc)
    else:
        assert Config.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
