"""A crash never leaves a run that cannot be finished: SIGKILL at seeded points (before the
first checkpoint, mid-training, right after the last checkpoint, during `sample`'s write),
then resume or rerun, must end bit-exact with an uninterrupted run and leave no temporary
file behind."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from safetensors.torch import load_file

ARGS = ["train", "--preset", "digits-mlp", "--steps", "20", "--quiet", "--set", "model.g_hidden=[32]",
        "--set", "model.d_hidden=[32]", "--set", "train.log_every=5", "--set", "train.checkpoint_every=10",
        "--set", "train.sample_every=10", "--set", "train.threads=1"]

# Kills this very process with SIGKILL (no cleanup handlers run, as with `kill -9`) at the
# point named by KILL_AT, by wrapping one function of the library.
WORKER = textwrap.dedent("""
    import os, signal, sys
    where = os.environ.get("KILL_AT", "")
    if where.startswith("step:"):
        import ganforge.tasks.gan as g
        n, step = int(where[5:]), g.GANTask.step
        def killing(self, feed, i):
            if i == n:
                os.kill(os.getpid(), signal.SIGKILL)
            return step(self, feed, i)
        g.GANTask.step = killing
    elif where == "after-last-checkpoint":
        import ganforge.training.run as r
        save = r.Run.save
        def killing(self, task, feed, step, name=None):
            path = save(self, task, feed, step, name)
            if step == 20:
                os.kill(os.getpid(), signal.SIGKILL)
            return path
        r.Run.save = killing
    elif where == "sample-write":
        import ganforge.images as im
        save_png, count = im.save_png, [0]
        def killing(image, path, min_size=0):
            count[0] += 1
            if count[0] == 3:
                from ganforge.files import atomic_path
                with atomic_path(path) as tmp:  # die half way through a write
                    tmp.write_bytes(b"half")
                    os.kill(os.getpid(), signal.SIGKILL)
            return save_png(image, path, min_size)
        im.save_png = killing
        import ganforge.sampling  # noqa: F401
    from ganforge.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def ganforge(args, kill_at=""):
    env = {**os.environ, "KILL_AT": kill_at, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", WORKER, *args], env=env, capture_output=True, text=True, timeout=120)


def weights(run: Path):
    latest = (run / "checkpoints" / "LATEST").read_text().strip()
    return load_file(str(run / "checkpoints" / latest / "model.safetensors"))


def no_temp_files(root: Path) -> bool:
    return not list(root.rglob(".tmp-*"))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    root = tmp_path_factory.mktemp("full")
    assert ganforge([*ARGS, "--runs-dir", str(root)]).returncode == 0
    (run,) = root.iterdir()
    return run


@pytest.mark.parametrize("kill_at", ["step:3", "step:15", "after-last-checkpoint"])
def test_a_killed_run_resumes_to_the_uninterrupted_weights(kill_at, uninterrupted, tmp_path):
    killed = ganforge([*ARGS, "--runs-dir", str(tmp_path)], kill_at)
    assert killed.returncode == -signal.SIGKILL
    (run,) = tmp_path.iterdir()
    done = ganforge(["train", "--resume", str(run), "--quiet"])
    assert done.returncode == 0, done.stderr
    assert "finished at step 20" in done.stdout
    a, b = weights(uninterrupted), weights(run)
    assert all((a[k] == b[k]).all() for k in a)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [5, 10, 15, 20]  # no row twice after the resume
    assert (run / "loss_curve.png").exists() and (run / "samples" / "latest.png").exists()
    assert no_temp_files(tmp_path)


def test_a_kill_during_sample_leaves_no_temp_file_and_a_rerun_writes_everything(uninterrupted, tmp_path):
    out = tmp_path / "pngs"
    killed = ganforge(["sample", str(uninterrupted), "-n", "6", "-o", str(out)], "sample-write")
    assert killed.returncode == -signal.SIGKILL
    assert not no_temp_files(tmp_path)  # the kill left its temporary file ...
    rerun = ganforge(["sample", str(uninterrupted), "-n", "6", "-o", str(out)])
    assert rerun.returncode == 0, rerun.stderr
    assert len(list(out.glob("*.png"))) == 6
    reference = tmp_path / "ref"
    assert ganforge(["sample", str(uninterrupted), "-n", "6", "-o", str(reference)]).returncode == 0
    assert all((out / p.name).read_bytes() == p.read_bytes() for p in reference.glob("*.png"))
    assert no_temp_files(tmp_path)  # ... and the rerun removed it
