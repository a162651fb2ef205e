"""The task interface seen from outside: a model family added from a test (the worked
example of docs/architecture.md) trains, resumes bit-exactly and samples through the one
harness; config keys a family does not have are refused; checkpoints of release 0.1 load."""

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from checksums import cpu_kind, weights_sha256
from ganforge import config as config_module
from ganforge.config import Config, OptimConfig
from ganforge.data.batches import to_model_range
from ganforge.errors import ConfigError
from ganforge.optim import make_optimizer
from ganforge.presets import preset_config
from ganforge.sampler import GeneratorSampler
from ganforge.tasks import TASKS, Task
from ganforge.training import train

FIXTURES = Path(__file__).parent.parent / "fixtures" / "release-0.1"


# --- a new model family in 40 lines: "mean" learns the average image and adds Gaussian noise ---
@dataclass(frozen=True)
class MeanConfig:
    noise_sd: float = 0.1
    optim: OptimConfig = field(default_factory=lambda: OptimConfig("adam", 0.05))
    LEGACY = {}


class MeanImage(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.mean = nn.Parameter(torch.zeros(shape))
        self.z_dim, self.num_classes, self.img_shape, self.sd = 1, 0, tuple(shape), 0.1

    def forward(self, z, y=None):  # z: (N, 1) Gaussian noise, scaled per image
        return (self.mean + self.sd * z[:, :, None, None]).clamp(-1, 1)


class MeanTask(Task):
    progress = {"mse": "MSE"}

    def __init__(self, cfg, spec, device, dist=None):
        super().__init__(cfg, spec, device, dist)
        self.net = MeanImage(spec.shape).to(device)
        self.opt = make_optimizer(self.net.parameters(), cfg.task.optim)
        self.modules, self.optimizers = {"G": self.net}, {"opt": self.opt}

    def step(self, feed, step):
        real, _ = feed.batch()
        loss = ((self.net.mean - to_model_range(real, self.cfg.data.scaling)) ** 2).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.dist.average_gradients(self.net)  # several ranks: average before the step (no-op with one)
        self.opt.step()
        return {"mse": loss.detach()}

    def preview(self):
        return self.sampler().eval()(torch.zeros(8, 1)), 8

    def sampler(self):
        return GeneratorSampler(self.net, z_dim=1, img_shape=self.spec.shape, num_classes=0,
                                scaling=self.cfg.data.scaling, kind="mean")

    def state(self):
        return {"output": "none"}

    @classmethod
    def load_sampler(cls, cfg, state, ckpt, *, ema=True, device="cpu"):
        net = MeanImage(tuple(state["img_shape"]))
        from ganforge import checkpoint

        checkpoint.load_module_weights(ckpt, "G", net)
        return GeneratorSampler(net, z_dim=1, img_shape=net.img_shape, num_classes=0, scaling=cfg.data.scaling,
                                kind="mean", checkpoint=str(ckpt)).eval()


@pytest.fixture
def mean_family(monkeypatch):
    monkeypatch.setitem(config_module.TASK_CONFIGS, "mean", MeanConfig)
    monkeypatch.setitem(TASKS._items, "mean", MeanTask)


def test_a_new_family_trains_resumes_and_samples_through_the_harness(mean_family, tiny_cfg, tmp_path):
    from ganforge.sampling import generate, load_sampler

    cfg = tiny_cfg.override({"kind": "mean", "task.noise_sd": 0.2})
    assert isinstance(cfg.task, MeanConfig) and cfg.task.noise_sd == 0.2
    full = train(cfg, runs_root=tmp_path / "a", quiet=True)
    rows = [json.loads(line) for line in (full.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["mse"] < rows[0]["mse"] and full.grid.exists()
    half = train(cfg.override({"train.steps": 10}), runs_root=tmp_path / "b", quiet=True)
    resumed = train(cfg, resume=half.run_dir, quiet=True)
    a, b = (load_file(str(r.checkpoint / "model.safetensors")) for r in (full, resumed))
    assert torch.equal(a["G.mean"], b["G.mean"])
    images, labels = generate(load_sampler(full.run_dir), 5, seed=0)
    assert images.shape == (5, 8, 8) and images.dtype == np.uint8 and labels is None


def test_registry_keys_match_the_config_sections():
    assert sorted(TASKS.names()) == sorted(config_module.TASK_CONFIGS)


@pytest.mark.parametrize("kind, key", [("vae", "loss.penalty"), ("vae", "model.ema"), ("vae", "train.d_steps"),
                                       ("gan", "vae.beta"), ("gan", "task.likelihood")])
def test_a_key_the_task_does_not_have_is_refused_naming_the_valid_ones(kind, key):
    cfg = preset_config("digits-mlp").override({"kind": kind})
    with pytest.raises(ConfigError) as info:
        cfg.with_sets([f"{key}=1"])
    msg = str(info.value)
    assert key in msg and f"kind={kind!r}" in msg and "\n" not in msg
    if key.split(".")[0] in ("loss", "vae"):  # a section this family lacks: its task keys are listed
        assert ("task.likelihood" in msg) is (kind == "vae") and ("task.loss.penalty" in msg) is (kind == "gan")
    if key in ("model.ema", "train.d_steps"):
        assert "an option of kind='gan'" in msg


def test_cli_refuses_an_option_of_another_family(capsys):
    from ganforge.cli import main

    assert main(["train", "--preset", "mnist-vae", "--set", "loss.penalty=gp", "--steps", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown config key 'loss.penalty' for kind='vae'") and "\n" not in err


def test_changing_kind_starts_from_the_new_family_defaults():
    cfg = preset_config("mnist-wgan").override({"kind": "vae"})
    assert cfg.task == config_module.VAEConfig()
    back = cfg.override({"kind": "gan"})
    assert back.task == config_module.GANConfig()


def test_release_01_config_dicts_migrate(tmp_path):
    old = json.loads((FIXTURES / "001-gan-ema" / "config.json").read_text())
    assert "loss" in old and "task" not in old and old["model"]["ema"] == 0.9
    cfg = Config.from_dict(old)
    assert cfg.task.ema == 0.9 and cfg.task.d_steps == 2 and cfg.task.loss.d_loss == "bce"
    assert Config.from_dict(cfg.to_dict()) == cfg
    vae = Config.from_dict(json.loads((FIXTURES / "002-vae" / "config.json").read_text()))
    assert vae.kind == "vae" and vae.task.e_hidden == (16,)


@pytest.mark.parametrize("run", ["001-gan-ema", "002-vae", "003-cgan"])
def test_release_01_checkpoints_sample_and_resume_as_that_release_did(run, tmp_path):
    """The expected numbers were written by release 0.1's own code (commit 7e5a650) from
    these checkpoints: 8 samples at seed 3, and the weights after resuming to step 20."""
    from ganforge.sampling import generate, load_sampler

    want = json.loads((FIXTURES / "expected.json").read_text())[run]
    src = tmp_path / run
    shutil.copytree(FIXTURES / run, src)
    images, labels = generate(load_sampler(src), 8, seed=3)
    assert (None if labels is None else labels.tolist()) == want["labels"]
    cfg = Config.from_dict(json.loads((src / "config.json").read_text())).override({"train.steps": 20})
    r = train(cfg, resume=src, quiet=True)
    assert r.step == 20
    kind = cpu_kind()  # bit for bit on the kinds of CPU that release's code was run on
    if kind in want["samples_sha256"]:
        assert hashlib.sha256(images.tobytes()).hexdigest() == want["samples_sha256"][kind]
        assert weights_sha256(r.checkpoint) == want["resumed_to_20_sha256"][kind]
    state = json.loads((r.checkpoint / "state.json").read_text())
    assert state["format"] == 2 and "task" in state["config"]
