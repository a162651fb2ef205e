"""Checkpoints: a directory of ``*.safetensors`` (tensors) and ``state.json`` (the rest).

Never unpickles. Written into a temporary directory and renamed into place, so a crash
leaves either the old checkpoint or the new one, never half of one. Used by training
(save/resume) and by sampling (load G), so sampling never imports training.

Layout of one checkpoint ``<run>/checkpoints/step-0001000/``:
  model.safetensors   G.*, D.*, G_ema.* weights and buffers
  train.safetensors   optimizer tensors and RNG states (only needed to resume)
  state.json          step, config, optimizer scalars, data position, shapes
``<run>/checkpoints/LATEST`` names the newest one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ganforge.errors import CheckpointError
from ganforge.files import write_atomic

LATEST = "LATEST"


def _flatten_optimizer(name: str, opt_state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    tensors, scalars = {}, {}
    for idx, pstate in opt_state["state"].items():
        for k, v in pstate.items():
            if torch.is_tensor(v):
                tensors[f"{name}/{idx}/{k}"] = v.detach().cpu().contiguous().clone()
            else:
                scalars.setdefault(str(idx), {})[k] = v
    return tensors, {"param_groups": opt_state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(name: str, tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict[str, Any]] = {}
    prefix = f"{name}/"
    for key, v in tensors.items():
        if key.startswith(prefix):
            idx, k = key[len(prefix):].split("/", 1)
            state.setdefault(int(idx), {})[k] = v
    for idx, kv in meta["scalars"].items():
        state.setdefault(int(idx), {}).update(kv)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(root: str | Path, step: int, modules: dict[str, torch.nn.Module], state: dict,
                    optimizers: dict[str, torch.optim.Optimizer] | None = None,
                    rng: dict[str, torch.Tensor] | None = None, keep: int = 2, name: str | None = None) -> Path:
    """Write ``root/step-XXXXXXX`` atomically, point ``root/LATEST`` at it, prune old ones.

    With ``name`` (e.g. "best") the checkpoint is written under that name instead and
    LATEST is left alone."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / (name or f"step-{step:07d}")
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    try:
        model = {f"{m}.{k}": v.detach().cpu().contiguous().clone() for m, mod in modules.items()
                 for k, v in mod.state_dict().items()}
        save_file(model, str(tmp / "model.safetensors"))
        train_tensors: dict[str, torch.Tensor] = {}
        opt_meta = {}
        for oname, opt in (optimizers or {}).items():
            t, meta = _flatten_optimizer(oname, opt.state_dict())
            train_tensors.update(t)
            opt_meta[oname] = meta
        for rname, r in (rng or {}).items():
            train_tensors[f"rng/{rname}"] = r.detach().cpu().contiguous().clone()
        if train_tensors:
            save_file(train_tensors, str(tmp / "train.safetensors"))
        full_state = dict(state, step=step, modules=sorted(modules), optimizers=opt_meta)
        (tmp / "state.json").write_text(json.dumps(full_state, indent=1))
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if name is not None:  # a named snapshot (e.g. "best"): LATEST and pruning are for step-* only
        return final
    write_atomic(root / LATEST, final.name)
    if keep:
        steps = sorted(p for p in root.glob("step-*") if p.is_dir())
        for old in steps[:-keep]:
            if old != final:
                shutil.rmtree(old, ignore_errors=True)
    return final


def resolve(path: str | Path) -> Path:
    """A run directory, its ``checkpoints`` folder, or a checkpoint folder -> checkpoint folder."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path} does not exist; pass a run directory (runs/NNN-name) or a checkpoint folder.")
    if (path / "state.json").exists():
        return path
    for root in (path / "checkpoints", path):
        latest = root / LATEST
        if latest.exists():
            target = root / latest.read_text().strip()
            if (target / "state.json").exists():
                return target
            raise CheckpointError(f"{latest} points to {target.name}, which is missing or incomplete; pass a checkpoint folder.")
    raise CheckpointError(f"{path} holds no checkpoint (no state.json or checkpoints/LATEST); train first or pass another path.")


def load_state(ckpt: str | Path) -> dict:
    ckpt = resolve(ckpt)
    try:
        return json.loads((ckpt / "state.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{ckpt}/state.json is unreadable ({exc}); the checkpoint is corrupt, use an earlier one.") from None


def _load_tensors(file: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(file))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{file} is corrupt or unreadable ({exc}); use an earlier checkpoint.") from None


def load_module_weights(ckpt: str | Path, name: str, module: torch.nn.Module) -> None:
    """Load the ``name.*`` tensors of ``model.safetensors`` into ``module`` (strictly)."""
    ckpt = resolve(ckpt)
    tensors = _load_tensors(ckpt / "model.safetensors")
    prefix = f"{name}."
    sd = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    if not sd:
        raise CheckpointError(f"{ckpt} has no weights for {name!r}.")
    try:
        module.load_state_dict(sd, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise CheckpointError(f"{ckpt} weights for {name!r} do not fit the model in its config ({first}).") from None


def load_training_state(ckpt: str | Path, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, torch.Tensor]:
    """Restore optimizers in place; return the RNG tensors."""
    ckpt = resolve(ckpt)
    state = load_state(ckpt)
    tensors = _load_tensors(ckpt / "train.safetensors")
    for oname, opt in optimizers.items():
        opt.load_state_dict(_unflatten_optimizer(oname, tensors, state["optimizers"][oname]))
    return {k[4:]: v for k, v in tensors.items() if k.startswith("rng/")}
