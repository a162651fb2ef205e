"""Tiny real runs shared by the report tests."""

import shutil

import pytest

from report_helpers import train_tiny


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    """Two finished tiny runs (the second with another D learning rate); tests copy them
    before changing anything."""
    root = tmp_path_factory.mktemp("report_runs")
    a = train_tiny(root)
    b = train_tiny(root, **{"task.d_optim.lr": 1e-3})
    return a, b


@pytest.fixture
def run_copy(runs, tmp_path):
    def copy(i=0, name=None):
        dst = tmp_path / (name or runs[i].name)
        shutil.copytree(runs[i], dst)
        return dst

    return copy
