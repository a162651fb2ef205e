"""keep_freed_memory: a CPU training step stops faulting its buffers' pages in every step."""

import subprocess
import sys

import pytest

STEPS = """
import resource, sys, torch
from ganforge.data.batches import DeviceBatcher, Feed
from ganforge.data.training import DataSpec
from ganforge.memory import keep_freed_memory
from ganforge.presets import preset_config
from ganforge.tasks.gan import GANTask

if sys.argv[1] == "keep":
    assert keep_freed_memory()
torch.set_num_threads(1)
torch.manual_seed(0)
task = GANTask(preset_config("mnist-quick"), DataSpec((1, 28, 28), 10, True), torch.device("cpu"))
x, y = torch.randint(0, 256, (640, 1, 28, 28), dtype=torch.uint8), torch.arange(640) % 10
feed = Feed(DeviceBatcher(x, y, 64, seed=0), 64, noise_seed=1)
for step in range(5):
    task.step(feed, step)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for step in range(5, 25):
    task.step(feed, step)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def faults_per_step(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_a_dcgan_step_keeps_its_freed_memory():
    # Measured on the 2-core AMD EPYC: 3,000-8,200 faults per mnist-quick step without, 2-10 with.
    assert faults_per_step("keep") < 100


def test_keep_freed_memory_leaves_a_users_malloc_setting(monkeypatch):
    import ganforge.memory as memory

    monkeypatch.setattr(memory, "_done", False)
    monkeypatch.setenv("MALLOC_TOP_PAD_", "0")
    assert memory.keep_freed_memory() is False


@pytest.mark.parametrize("user_threshold", [False, True])
def test_keep_freed_memory_also_lifts_the_frozen_mmap_threshold(monkeypatch, user_threshold):
    # mallopt(M_TOP_PAD) freezes glibc's dynamic mmap threshold, so it is set to the ceiling of that
    # dynamic threshold (32 MB) too, unless the user set MALLOC_MMAP_THRESHOLD_ themselves.
    import ctypes

    import ganforge.memory as memory

    calls = []

    class FakeLibc:
        @staticmethod
        def mallopt(param, value):
            calls.append((param, value))
            return 1

    monkeypatch.setattr(memory, "_done", False)
    monkeypatch.setattr(memory.sys, "platform", "linux")
    monkeypatch.delenv("MALLOC_TOP_PAD_", raising=False)
    if user_threshold:
        monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "1048576")
    else:
        monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.setattr(ctypes, "CDLL", lambda name: FakeLibc())
    assert memory.keep_freed_memory(pad_mb=8) is True
    expected = [(-2, 8 << 20)] + ([] if user_threshold else [(-3, 32 << 20)])
    assert calls == expected
