import os

import pytest
import torch

torch.set_num_threads(1)  # tests are tiny; one thread is fastest and deterministic


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own empty GANFORGE_HOME: no test reads the user's cache."""
    home = tmp_path_factory.mktemp("ganforge_home")
    monkeypatch.setenv("GANFORGE_HOME", str(home))
    monkeypatch.delenv("GANFORGE_INCEPTION_WEIGHTS", raising=False)  # a developer's own weights must not switch tests to Inception
    yield home


@pytest.fixture
def tiny_cfg():
    from ganforge.presets import preset_config

    return preset_config("digits-mlp").override(
        {"train.steps": 20, "train.log_every": 5, "train.sample_every": 10, "train.checkpoint_every": 10,
         "train.batch_size": 16, "model.g_hidden": [32], "model.d_hidden": [32]}
    )
