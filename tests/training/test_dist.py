"""Data-parallel training on CPU: 2 gloo ranks spawned from pytest (a file store for the
rendezvous, a timeout on every process), and one run through torchrun itself."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ganforge.presets import preset_config
from ganforge.training import train

TIMEOUT = 180  # seconds per process: a hang fails the test instead of blocking CI

# Small, no dropout and no BatchNorm: 2 ranks x b must then equal 1 process x 2b.
TINY = ["train", "--preset", "digits-mlp", "--quiet", "--set", "model.g_hidden=[32]", "--set", "model.d_hidden=[32]",
        "--set", "model.d_dropout=0", "--set", "train.log_every=2", "--set", "train.checkpoint_every=4",
        "--set", "train.sample_every=100", "--set", "train.threads=1"]
WGAN_GP = ["--set", "loss.d_loss=wasserstein", "--set", "loss.g_loss=wasserstein", "--set", "loss.penalty=gp",
           "--set", "train.d_steps=2"]

WORKER = textwrap.dedent("""
    import sys
    {patch}
    from ganforge.cli import entry  # what the ganforge command runs
    entry()
""")


def run_ranks(tmp_path: Path, argv: list[str], world: int = 2, patch: str = "") -> list[subprocess.CompletedProcess]:
    store = tmp_path / f"store-{len(list(tmp_path.glob('store-*')))}"
    procs = []
    for rank in range(world):
        env = {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world),
               "GANFORGE_DIST_INIT": f"file://{store}", "GANFORGE_DIST_TIMEOUT_MIN": "2", "OMP_NUM_THREADS": "1"}
        procs.append(subprocess.Popen([sys.executable, "-c", WORKER.format(patch=textwrap.dedent(patch)), *argv],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    out = []
    for p in procs:
        try:
            stdout, stderr = p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail("a rank hung")
        out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    return out


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    latest = (run_dir / "checkpoints" / "LATEST").read_text().strip()
    return load_file(str(run_dir / "checkpoints" / latest / "model.safetensors"))


def test_two_ranks_match_one_process_with_the_global_batch_wgan_gp(tmp_path):
    """Sliced global batches and noise, averaged gradients, the penalty's interpolation weights
    drawn globally: after 6 steps of a WGAN-GP critic (2 critic steps each) the weights agree."""
    two = run_ranks(tmp_path, [*TINY, *WGAN_GP, "--steps", "6", "--batch-size", "8", "--runs-dir", str(tmp_path / "two")])
    assert [r.returncode for r in two] == [0, 0], two[0].stderr + two[1].stderr
    runs = list((tmp_path / "two").iterdir())
    assert len(runs) == 1  # rank 0 alone made the run directory
    assert "finished at step 6" in two[0].stdout and two[1].stdout == ""  # rank 0 reports for everyone
    cfg = preset_config("digits-mlp").override({
        "model.g_hidden": [32], "model.d_hidden": [32], "model.d_dropout": 0, "train.threads": 1, "train.steps": 6,
        "train.batch_size": 16, "loss.d_loss": "wasserstein", "loss.g_loss": "wasserstein", "loss.penalty": "gp",
        "train.d_steps": 2, "train.log_every": 2, "train.checkpoint_every": 4, "train.sample_every": 100})
    one = train(cfg, runs_root=tmp_path / "one", quiet=True)
    a, b = weights(runs[0]), weights(one.run_dir)
    assert a.keys() == b.keys()
    # Equal up to float summation order: the ranks average two half-batch means where one
    # process takes one mean. Adam divides by sqrt(v), so a parameter whose gradient is ~0
    # can turn a 1e-9 difference into a visible part of one step (lr = 2e-4); a real error
    # (a wrong slice, no averaging) moves most parameters by whole steps.
    lr = cfg.task.d_optim.lr
    for k in a:
        diff = (a[k] - b[k]).abs()
        assert diff.max() < 0.1 * lr, (k, float(diff.max()))
        assert (diff > 1e-6).float().mean() < 0.05, (k, float((diff > 1e-6).float().mean()))
    rows = [json.loads(line) for line in (runs[0] / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4, 6]  # one metrics file, each window once
    state = json.loads((runs[0] / "checkpoints" / "step-0000006" / "state.json").read_text())
    assert state["world_size"] == 2


def test_batchnorm_buffers_and_ema_stay_identical_on_every_rank(tmp_path):
    """A DCGAN with BatchNorm in G and D and an EMA of G: the ranks' checksums of every
    parameter and buffer are compared at each checkpoint (the harness raises if they differ)
    and written per rank here."""
    patch = """
        import ganforge.ranks as R, os
        original = R.Dist.check_in_step
        def check(self, *modules):
            original(self, *modules)
            total = sum(float(t.double().sum()) for m in modules for t in [*m.parameters(), *m.buffers()]
                        if t.is_floating_point())
            with open(os.environ["SUMS"] + f"-{self.rank}", "a") as f:
                f.write(repr(total) + "\\n")
        R.Dist.check_in_step = check
    """
    argv = [*TINY, "--steps", "8", "--batch-size", "8", "--runs-dir", str(tmp_path / "runs"),
            "--set", "model.generator=dcgan", "--set", "model.discriminator=dcgan", "--set", "model.width=8",
            "--set", "model.g_batchnorm=true", "--set", "model.d_batchnorm=true", "--set", "model.ema=0.9"]
    os.environ["SUMS"] = str(tmp_path / "sums")
    try:
        res = run_ranks(tmp_path, argv, patch=patch)
    finally:
        del os.environ["SUMS"]
    assert [r.returncode for r in res] == [0, 0], res[0].stderr + res[1].stderr
    s0, s1 = (tmp_path / "sums-0").read_text().split(), (tmp_path / "sums-1").read_text().split()
    assert len(s0) == 2 and s0 == s1  # checkpoints at steps 4 and 8


def test_two_rank_checkpoint_resumes_bit_exactly_and_refuses_another_world_size(tmp_path):
    full = run_ranks(tmp_path, [*TINY, "--steps", "8", "--batch-size", "8", "--runs-dir", str(tmp_path / "full")])
    half = run_ranks(tmp_path, [*TINY, "--steps", "4", "--batch-size", "8", "--runs-dir", str(tmp_path / "half")])
    assert all(r.returncode == 0 for r in full + half)
    run = next((tmp_path / "half").iterdir())
    res = run_ranks(tmp_path, ["train", "--resume", str(run), "--steps", "8", "--quiet"])
    assert [r.returncode for r in res] == [0, 0], res[0].stderr
    a, b = weights(next((tmp_path / "full").iterdir())), weights(run)
    assert all(torch.equal(a[k], b[k]) for k in a)
    events = [json.loads(line)["kind"] for line in (run / "events.jsonl").read_text().splitlines()]
    assert events == ["start", "finish", "resume", "finish"]
    from ganforge.config import Config
    from ganforge.errors import ConfigError

    cfg = Config.from_dict(json.loads((run / "config.json").read_text())).override({"train.steps": 12})
    with pytest.raises(ConfigError, match="trained on 2 process"):
        train(cfg, resume=run, quiet=True)


def test_nan_on_one_rank_stops_both_with_one_line(tmp_path):
    patch = """
        import os, ganforge.tasks.gan as g
        step = g.GANTask.step
        def poisoned(self, feed, i):
            stats = step(self, feed, i)
            if os.environ["RANK"] == "1" and i >= 2:
                stats["d_loss"] = stats["d_loss"] * float("nan")
            return stats
        g.GANTask.step = poisoned
    """
    res = run_ranks(tmp_path, [*TINY, "--steps", "50", "--runs-dir", str(tmp_path / "runs")], patch=patch)
    for r in res:
        assert r.returncode == 2, r.stderr
        assert "Traceback" not in r.stderr, r.stderr
        # ganforge's own output is one line; torch.distributed may add its own log lines at exit
        (line,) = [line for line in r.stderr.splitlines() if line.startswith("error:")]
        assert line.startswith("error: d_loss became NaN/Inf near step 4"), r.stderr


def test_torchrun_trains_one_model_on_two_cpu_processes(tmp_path):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "ganforge",
           *TINY, "--steps", "4", "--runs-dir", str(tmp_path / "runs")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[:6000]  # the ranks' own output comes before torchrun's summary
    assert r.stdout.count("finished at step 4") == 1
    (run,) = (tmp_path / "runs").iterdir()
    assert json.loads((run / "checkpoints" / "step-0000004" / "state.json").read_text())["world_size"] == 2


def test_the_vae_trains_on_two_ranks_with_the_same_harness(tmp_path):
    res = run_ranks(tmp_path, [*TINY, "--kind", "vae", "--set", "model.z_dim=4", "--steps", "4", "--batch-size", "8",
                               "--runs-dir", str(tmp_path / "runs")])
    assert [r.returncode for r in res] == [0, 0], res[0].stderr + res[1].stderr
    (run,) = (tmp_path / "runs").iterdir()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4] and all("elbo" in r for r in rows)
