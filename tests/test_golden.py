"""Golden numbers pinned before the harness refactor (issue 13): seeded 20-step runs on one
thread, their logged losses and a checksum of every saved tensor. The refactor must keep
them bit for bit; a change here means an RNG draw or an operation moved.

Regenerate (only for a deliberate, explained change): GANFORGE_PIN_GOLDEN=1 pytest tests/test_golden.py
The losses and weight sums hold on every CPU; the checksum is kept per kind of CPU (see
checksums.py). On a new kind, GANFORGE_PIN_GOLDEN=cpu checks the numbers and adds its checksum.
"""

import json
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from checksums import cpu_kind, tensors_sha256
from ganforge.presets import preset_config
from ganforge.training import train

GOLDEN = Path(__file__).parent / "golden.json"

# Written with the pre-refactor config keys on purpose: they must keep working.
TINY = {"train.steps": 20, "train.log_every": 5, "train.sample_every": 10, "train.checkpoint_every": 10,
        "train.batch_size": 16, "train.threads": 1}
CASES = {
    "digits-mlp": {},
    "dcgan-bn-ema": {"model.generator": "dcgan", "model.discriminator": "dcgan", "model.width": 8,
                     "model.d_batchnorm": True, "model.ema": 0.99},
    "wgan-gp-boost": {"model.g_hidden": [32], "model.d_hidden": [32], "model.d_dropout": 0.0, "loss.d_loss": "wasserstein",
                      "loss.g_loss": "wasserstein", "loss.penalty": "gp", "train.d_steps": 2, "train.d_steps_boost": 3,
                      "train.boost_first": 2, "train.boost_every": 7, "g_optim.betas": [0.0, 0.9],
                      "d_optim.betas": [0.0, 0.9]},
    "cgan-projection-diffaugment": {"data.conditional": True, "model.generator": "dcgan", "model.discriminator": "dcgan",
                                    "model.width": 8, "model.projection": True, "model.spectral_norm": True,
                                    "loss.d_loss": "hinge", "loss.g_loss": "hinge",
                                    "model.diffaugment": "color,translation,cutout"},
    "wgan-clip-rmsprop": {"model.g_hidden": [32], "model.d_hidden": [32], "loss.d_loss": "wasserstein",
                          "loss.g_loss": "wasserstein", "loss.clip": 0.01, "d_optim.name": "rmsprop",
                          "d_optim.lr": 5e-5, "g_optim.name": "rmsprop", "g_optim.lr": 5e-5, "train.d_steps": 5},
    "vae-mlp": {"kind": "vae", "model.g_hidden": [32], "vae.e_hidden": [32], "model.z_dim": 4, "g_optim.lr": 1e-3},
    "cvae-conv-gaussian": {"kind": "vae", "data.conditional": True, "model.generator": "dcgan", "model.width": 8,
                           "vae.encoder": "conv", "vae.likelihood": "gaussian", "model.z_dim": 4},
}


def run_case(name: str, tmp_path: Path) -> dict:
    cfg = preset_config("digits-mlp").override({**TINY, **CASES[name]})
    r = train(cfg, runs_root=tmp_path, quiet=True)
    rows = [json.loads(line) for line in (r.run_dir / "metrics.jsonl").read_text().splitlines()]
    losses = [{k: v for k, v in row.items() if k not in ("img_per_s", "time_s")} for row in rows]
    tensors = load_file(str(r.checkpoint / "model.safetensors"))
    total = float(sum(t.double().sum() for t in tensors.values() if t.is_floating_point()))
    return {"losses": losses, "sha256": {cpu_kind(): tensors_sha256(tensors)}, "weight_sum": total}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name, tmp_path):
    got = run_case(name, tmp_path)
    if os.environ.get("GANFORGE_PIN_GOLDEN", "cpu") != "cpu":
        data = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
        data[name] = got
        GOLDEN.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        pytest.skip("golden numbers written")
    want = json.loads(GOLDEN.read_text())[name]
    assert [r["step"] for r in got["losses"]] == [r["step"] for r in want["losses"]]
    for g, w in zip(got["losses"], want["losses"]):
        assert g.keys() == w.keys(), f"step {w['step']}: logged statistics changed"
        for k in w:
            assert g[k] == pytest.approx(w[k], rel=1e-5, abs=1e-7), f"step {w['step']} {k}: {g[k]} != {w[k]}"
    assert got["weight_sum"] == pytest.approx(want["weight_sum"], rel=1e-6)
    (kind, sha), = got["sha256"].items()
    if os.environ.get("GANFORGE_PIN_GOLDEN") == "cpu":  # the numbers held above: add this CPU's checksum
        data = json.loads(GOLDEN.read_text())
        data[name]["sha256"][kind] = sha
        GOLDEN.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    elif kind in want["sha256"]:  # bit for bit on the kinds of CPU the numbers were pinned on
        assert sha == want["sha256"][kind], "weights differ in some bit from the pinned run"
