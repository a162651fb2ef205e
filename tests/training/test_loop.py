"""The harness: determinism, bit-exact resume, the run directory, NaN stop, signals, refusals."""

import json

import pytest
import torch

from ganforge.checkpoint import resolve
from ganforge.errors import ConfigError, TrainingDiverged
from ganforge.training import train

from safetensors.torch import load_file


def _weights(run_dir):
    return load_file(str(resolve(run_dir) / "model.safetensors"))


def test_resume_is_bit_exact(tiny_cfg, tmp_path):
    # dropout in G and D exercises the global RNG; SGD momentum exercises optimizer state
    cfg = tiny_cfg.override({"model.g_dropout": 0.2, "d_optim.name": "sgd", "d_optim.momentum": 0.9,
                             "d_optim.lr": 0.01, "train.d_steps": 2, "model.ema": 0.9})
    full = train(cfg, runs_root=tmp_path / "a", quiet=True)
    half = train(cfg.override({"train.steps": 10}), runs_root=tmp_path / "b", quiet=True)
    resumed = train(cfg, resume=half.run_dir, quiet=True)
    assert resumed.step == full.step == 20
    wa, wb = _weights(full.run_dir), _weights(resumed.run_dir)
    assert wa.keys() == wb.keys() and {"G", "D", "G_ema"} == {k.split(".")[0] for k in wa}
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k


def test_same_seed_same_weights_other_seed_differs(tiny_cfg, tmp_path):
    a = _weights(train(tiny_cfg, runs_root=tmp_path, quiet=True).run_dir)
    b = _weights(train(tiny_cfg, runs_root=tmp_path, quiet=True).run_dir)
    c = _weights(train(tiny_cfg.override({"train.seed": 1}), runs_root=tmp_path, quiet=True).run_dir)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_run_directory_contents(tiny_cfg, tmp_path):
    r = train(tiny_cfg, runs_root=tmp_path, quiet=True)
    assert r.run_dir.name == "001-digits-mlp"
    assert (r.run_dir / "config.json").exists() and r.grid.exists() and r.loss_curve.exists()
    rows = [json.loads(l) for l in (r.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [5, 10, 15, 20]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "img_per_s"} <= rows[0].keys()
    assert train(tiny_cfg, runs_root=tmp_path, quiet=True).run_dir.name == "002-digits-mlp"


def test_nan_stops_run_and_keeps_last_good_checkpoint(tiny_cfg, tmp_path):
    # An absurd learning rate makes the losses overflow; the run must stop with the message
    # and the checkpoint on disk must hold only finite weights.
    cfg = tiny_cfg.override({"g_optim.lr": 1e30, "d_optim.lr": 1e30, "d_optim.name": "sgd", "g_optim.name": "sgd",
                             "train.steps": 200})
    with pytest.raises(TrainingDiverged, match="NaN/Inf") as info:
        train(cfg, runs_root=tmp_path, quiet=True)
    assert str(info.value).count("\n") == 0
    run = next(tmp_path.iterdir())
    if (run / "checkpoints" / "LATEST").exists():
        assert all(torch.isfinite(t).all() for t in _weights(run).values())


def test_resume_finishes_a_complete_run_and_refuses_other_config_or_fewer_steps(tiny_cfg, tmp_path):
    r = train(tiny_cfg, runs_root=tmp_path, quiet=True)
    (r.run_dir / "loss_curve.png").unlink()
    (r.run_dir / "samples" / "latest.png").unlink()
    again = train(tiny_cfg, resume=r.run_dir, quiet=True)  # a run killed after its last checkpoint gets finished
    assert again.step == 20 and again.grid.exists() and again.loss_curve.exists()
    assert torch.equal(_weights(r.run_dir)["G.net.0.weight"], _weights(again.run_dir)["G.net.0.weight"])
    with pytest.raises(ConfigError, match="already has 20 steps"):
        train(tiny_cfg.override({"train.steps": 10}), resume=r.run_dir, quiet=True)
    with pytest.raises(ConfigError, match="different configuration"):
        train(tiny_cfg.override({"train.steps": 40, "g_optim.lr": 0.1}), resume=r.run_dir, quiet=True)


def test_conditional_run_makes_class_rows(tiny_cfg, tmp_path):
    r = train(tiny_cfg.override({"data.conditional": True}), runs_root=tmp_path, quiet=True)
    from ganforge.sampling import generate, load_generator

    G = load_generator(r.run_dir)
    assert G.num_classes == 10
    imgs, y = generate(G, 12, labels=7)
    assert imgs.shape == (12, 8, 8) and set(y.tolist()) == {7}


def test_sigterm_writes_checkpoint_and_exits_cleanly(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    cmd = [sys.executable, "-m", "ganforge", "train", "--preset", "digits-mlp", "--steps", "100000", "--quiet",
           "--runs-dir", str(tmp_path), "--set", "train.log_every=5", "--set", "train.checkpoint_every=100000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    metrics = tmp_path / "001-digits-mlp" / "metrics.jsonl"
    deadline = time.time() + 60
    while not (metrics.exists() and metrics.stat().st_size) and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped by a signal at step" in out and "stopped by signal" in err
    ckpt = resolve(tmp_path / "001-digits-mlp")
    step = json.loads((ckpt / "state.json").read_text())["step"]
    assert 0 < step < 100000


def test_eval_every_refuses_non_mnist_shapes(tiny_cfg, tmp_path):
    with pytest.raises(ConfigError, match="28x28"):
        train(tiny_cfg.override({"train.eval_every": 10}), runs_root=tmp_path / "runs", quiet=True)
    assert not (tmp_path / "runs").exists()  # refused before anything was written
    with pytest.raises(ConfigError, match="eval_every"):
        tiny_cfg.override({"train.early_stop": 2})


def test_eval_every_keeps_best_and_early_stops(tiny_cfg, tmp_path, monkeypatch):
    # 28x28 random "MNIST-shaped" data; the FID function is replaced by a scripted sequence
    # so the test checks the loop's bookkeeping, not the extractor.
    import numpy as np

    import ganforge.eval as ev
    from ganforge.data import ImageSet

    fids = iter([5.0, 3.0, 4.0, 4.5, 9.0])
    monkeypatch.setattr(ev.quick, "quick_metrics", lambda G, n, seed, **kw: {"fid": next(fids), "classifier_score": 2.0})
    data = ImageSet(np.random.default_rng(0).integers(0, 256, (64, 28, 28), dtype=np.uint8), None, "rand")
    cfg = tiny_cfg.override({"train.steps": 100, "train.eval_every": 4, "train.early_stop": 2, "train.eval_samples": 8})
    r = train(cfg, runs_root=tmp_path, data=data, quiet=True)
    assert r.step == 16 and r.early_stopped and not r.interrupted  # evals at 4, 8 (best), 12, 16 -> stop
    best = json.loads((r.run_dir / "checkpoints" / "best" / "state.json").read_text())
    assert best["step"] == 8
    rows = [json.loads(l) for l in (r.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["fid"] for row in rows if "fid" in row] == [5.0, 3.0, 4.0, 4.5]
    assert [row["classifier_score"] for row in rows if "fid" in row] == [2.0] * 4
    assert resolve(r.run_dir).name == "step-0000016"  # LATEST still follows the newest step


@pytest.mark.parametrize("native", [False, True])
def test_bf16_runs_and_warns_only_where_the_cpu_emulates_it(tiny_cfg, tmp_path, monkeypatch, capsys, native):
    import ganforge.training.loop as loop

    monkeypatch.setattr(loop, "cpu_has_native_bf16", lambda: native)
    r = train(tiny_cfg.override({"train.bf16": True, "train.steps": 5}), runs_root=tmp_path, quiet=True)
    rows = [json.loads(l) for l in (r.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert all(torch.isfinite(torch.tensor(row["d_loss"])) for row in rows)
    assert ("no native bf16" in capsys.readouterr().err) is (not native)


def test_the_start_event_names_the_library_that_auto_picked(tiny_cfg, tmp_path, monkeypatch):
    from ganforge.models import layers

    for vendor, library in (("AuthenticAMD", "oneDNN" if layers._ONEDNN_LINEAR is not None else "torch's default"),
                            ("GenuineIntel", "torch's default")):
        monkeypatch.setattr(layers, "cpu_vendor", lambda *_, v=vendor: v)
        run = train(tiny_cfg.override({"model.matmul": "auto", "train.steps": 2}), runs_root=tmp_path / vendor, quiet=True)
        start = json.loads((run.run_dir / "events.jsonl").read_text().splitlines()[0])
        assert start["kind"] == "start"
        assert start["message"].endswith(f"fully connected products by {library} (model.matmul=auto, CPU vendor {vendor})")
    plain = train(tiny_cfg.override({"train.steps": 2}), runs_root=tmp_path / "plain", quiet=True)
    assert "products" not in (plain.run_dir / "events.jsonl").read_text().splitlines()[0]


@pytest.fixture
def minute_clock(monkeypatch):
    """The loop's clock reads one minute later at each look (before the first step, then after
    each step), so a 2.5-minute budget is spent after the third step, whatever the machine's speed."""
    import itertools

    import ganforge.training.loop as loop

    minutes = itertools.count()
    monkeypatch.setattr(loop, "clock", lambda: 60.0 * next(minutes))
    return monkeypatch


def test_max_minutes_stops_with_a_checkpoint_and_says_so(tiny_cfg, tmp_path, minute_clock):
    r = train(tiny_cfg.override({"train.steps": 50, "train.max_minutes": 2.5}), runs_root=tmp_path, quiet=True)
    assert r.step == 3 and r.time_limited and not r.interrupted and not r.early_stopped
    assert resolve(r.run_dir).name == "step-0000003"  # the last step is checkpointed, as at the end of a run
    events = [json.loads(line) for line in (r.run_dir / "events.jsonl").read_text().splitlines()]
    limit = [e for e in events if e["kind"] == "time_limit"]
    assert len(limit) == 1 and "step 3 of 50" in limit[0]["message"] and events[-1]["kind"] == "finish"
    from ganforge.report.rundata import load_run

    assert load_run(r.run_dir).status == "stopped at the time limit (train.max_minutes)"


def test_max_minutes_zero_trains_every_step_and_negative_is_refused(tiny_cfg, tmp_path):
    r = train(tiny_cfg.override({"train.steps": 3, "train.max_minutes": 0.0}), runs_root=tmp_path, quiet=True)
    assert r.step == 3 and not r.time_limited
    with pytest.raises(ConfigError, match="train.max_minutes"):
        tiny_cfg.override({"train.max_minutes": -1.0})


def test_a_run_stopped_by_its_time_budget_resumes_to_the_last_step(tiny_cfg, tmp_path, minute_clock):
    cfg = tiny_cfg.override({"train.steps": 8, "train.max_minutes": 2.5})
    first = train(cfg, runs_root=tmp_path, quiet=True)
    assert first.step == 3 and first.time_limited
    minute_clock.undo()  # a real clock: the 2.5 minutes are not spent by 5 tiny steps
    resumed = train(cfg, runs_root=tmp_path, resume=first.run_dir, quiet=True)
    assert resumed.step == 8 and not resumed.time_limited and resolve(resumed.run_dir).name == "step-0000008"


def test_monitor_stacks_statistics_from_cpu_and_accelerator_on_one_device():
    """The progressive task reports its level and fade-in alpha as CPU tensors beside losses on
    the training device; on a GPU the window's stack failed (found on an H200). A meta tensor
    stands in for the GPU's here."""
    from ganforge.training.monitor import stack_on_one_device

    on_gpu, on_cpu = torch.ones(2, device="meta")[0], torch.tensor(0.5)
    stacked = stack_on_one_device([on_gpu, on_cpu, torch.tensor(3, dtype=torch.int64)])
    assert stacked.device.type == "meta" and stacked.shape == (3,) and stacked.dtype == torch.float32
    torch.testing.assert_close(stack_on_one_device([torch.tensor(1.0), torch.tensor(2)]), torch.tensor([1.0, 2.0]))
