import pytest
import torch


@pytest.fixture(scope="session")
def digits_cgan(tmp_path_factory):
    """One tiny conditional GAN on 8×8 digits, trained once for the whole latent suite."""
    from ganforge.presets import preset_config
    from ganforge.training.loop import train

    torch.set_num_threads(1)
    cfg = preset_config("digits-mlp").override(
        {"train.steps": 40, "train.batch_size": 32, "train.checkpoint_every": 40, "train.sample_every": 40,
         "train.log_every": 20, "data.conditional": True, "model.g_hidden": [64], "model.d_hidden": [64]})
    return train(cfg, runs_root=tmp_path_factory.mktemp("latent_runs"), quiet=True).run_dir


@pytest.fixture(scope="session")
def digits_gan(tmp_path_factory):
    """One tiny unconditional GAN on 8×8 digits."""
    from ganforge.presets import preset_config
    from ganforge.training.loop import train

    torch.set_num_threads(1)
    cfg = preset_config("digits-mlp").override(
        {"train.steps": 60, "train.batch_size": 32, "train.checkpoint_every": 60, "train.sample_every": 60,
         "train.log_every": 20, "model.g_hidden": [64], "model.d_hidden": [64]})
    return train(cfg, runs_root=tmp_path_factory.mktemp("latent_runs"), quiet=True).run_dir
