"""One readable training loop: ``train(config)``.

Alternating minimisation as in the lecture: for every generator step, ``d_steps``
discriminator steps ("freeze G, train D"), then one generator step ("freeze D, train G").
Everything else -- logging, grids, checkpoints, health checks -- is around it, not in it.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganforge import checkpoint
from ganforge.config import Config
from ganforge.data import ImageSet, load_images
from ganforge.data.batches import DeviceBatcher, images_to_nchw, to_model_range
from ganforge.errors import ConfigError, DataError
from ganforge.images import save_grid
from ganforge.models import build_discriminator, build_generator, has_batchnorm
from ganforge.models.noise import sample_labels, sample_z
from ganforge.models.vae import VAEDecoder, build_encoder, decoder_output
from ganforge.sampling import class_grid_labels, prepare_for_sampling, to_uint8_images
from ganforge.training.monitor import Monitor, plot_losses
from ganforge.training.steps import Objective, d_step, ema_update, g_step, make_optimizer, vae_step


@dataclass
class RunResult:
    run_dir: Path
    checkpoint: Path
    grid: Path | None
    loss_curve: Path | None
    step: int
    interrupted: bool = False
    early_stopped: bool = False


def new_run_dir(root: str | Path, name: str) -> Path:
    """``root/NNN-name``, numbered after the highest existing run."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    nums = [int(m.group(1)) for p in root.iterdir() if (m := re.match(r"(\d+)-", p.name))]
    run = root / f"{max(nums, default=0) + 1:03d}-{name}"
    run.mkdir()
    return run


def check_compatible(cfg: Config, D: torch.nn.Module) -> None:
    """Refuse wrong combinations instead of silently fixing them."""
    if cfg.loss.penalty == "gp" and has_batchnorm(D):
        raise ConfigError(
            "the gradient penalty is defined per sample, but BatchNorm in the critic mixes samples; "
            "set model.d_batchnorm=false (WGAN-GP uses layer norm or none)."
        )
    if cfg.loss.clip and cfg.loss.d_loss != "wasserstein":
        raise ConfigError("weight clipping belongs to the Wasserstein critic; set loss.d_loss=wasserstein or loss.clip=0.")
    if cfg.loss.penalty == "r1" and has_batchnorm(D):
        raise ConfigError(
            "the R1 penalty is a per-sample gradient norm, but BatchNorm in the discriminator mixes samples; "
            "set model.d_batchnorm=false."
        )
    if cfg.loss.d_loss == "wasserstein" and not (cfg.loss.clip or cfg.loss.penalty == "gp" or cfg.model.spectral_norm):
        # Without a Lipschitz bound the critic's scores grow without limit (Arjovsky et al. 2017, §3).
        raise ConfigError(
            "the Wasserstein critic needs a Lipschitz constraint; set loss.clip=0.01 (WGAN), loss.penalty=gp "
            "(WGAN-GP) or model.spectral_norm=true."
        )
    if cfg.model.projection:
        if not cfg.data.conditional:
            raise ConfigError("model.projection is a conditional discriminator; set data.conditional=true "
                              "(with a labelled dataset) or model.projection=false.")
        if not getattr(D, "projection", False):
            raise ConfigError(f"model.discriminator={cfg.model.discriminator!r} has no projection head; "
                              "use model.discriminator=dcgan or set model.projection=false.")


def _training_tensors(cfg: Config, data: ImageSet | torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None, int]:
    """(x, y, num_classes): uint8 NCHW images, or float rows for non-image data."""
    if data is None:
        data = load_images(cfg.data.dataset, image_size=cfg.data.image_size, channels=cfg.data.channels or None)
    if isinstance(data, torch.Tensor):
        x, y = data.float(), None
        if x.ndim == 1:
            x = x[:, None]
    else:
        x = images_to_nchw(data.images)
        y = None if data.labels is None else torch.from_numpy(data.labels).long()
    if cfg.data.conditional:
        if y is None:
            raise DataError(f"dataset {cfg.data.dataset!r} has no labels, so it cannot train a conditional model; "
                            "set data.conditional=false or use a labelled dataset.")
        return x, y, int(y.max()) + 1
    return x, None, 0


def train(cfg: Config, *, runs_root: str | Path = "runs", resume: str | Path | None = None,
          data: ImageSet | torch.Tensor | None = None, quiet: bool = False) -> RunResult:
    """Train a GAN as configured; return where the run, grid and checkpoint are.

    ``resume``: a run directory; training continues bit-exactly from its latest
    checkpoint (same device and thread count) up to ``cfg.train.steps``.
    ``data``: in-memory data instead of ``cfg.data.dataset`` (an ImageSet, or a float
    tensor (N, d) of rows, e.g. a standardised 1-D column).
    """
    t = cfg.train
    if t.threads:
        torch.set_num_threads(t.threads)
    device = torch.device(t.device)
    torch.manual_seed(t.seed)

    # --- data: the whole set on the device, seeded batches ---
    x, y, num_classes = _training_tensors(cfg, data)
    is_image = x.dtype == torch.uint8
    batcher = DeviceBatcher(x, y, t.batch_size, seed=t.seed, device=device)
    shape = tuple(x.shape[1:])
    output = cfg.data.scaling if cfg.model.output == "auto" else cfg.model.output
    if not is_image and cfg.model.output == "auto":
        output = "none"

    if t.eval_every and not (is_image and shape == (1, 28, 28)):
        raise ConfigError("train.eval_every uses the MNIST feature extractor, which needs 28x28 grayscale images; "
                          "set train.eval_every=0 for this dataset.")

    # --- models and optimizers ---
    vae = cfg.kind == "vae"
    if vae:  # the baseline: encoder E + decoder G, one optimizer over both (cfg.g_optim)
        output = decoder_output(cfg.vae.likelihood)
        G = build_generator(cfg.model, shape, num_classes, output).to(device)
        E = build_encoder(cfg.vae, cfg.model.z_dim, cfg.model.width, shape, num_classes).to(device)
        modules = {"G": G, "E": E}
        optimizers = {"opt_g": make_optimizer([*E.parameters(), *G.parameters()], cfg.g_optim)}
        G_ema, obj = None, Objective.from_config(cfg.loss)
    else:
        G = build_generator(cfg.model, shape, num_classes, output).to(device)
        D = build_discriminator(cfg.model, shape, num_classes).to(device)
        check_compatible(cfg, D)
        G_ema = copy.deepcopy(G).eval().requires_grad_(False) if cfg.model.ema else None
        opt_g, opt_d = make_optimizer(G.parameters(), cfg.g_optim), make_optimizer(D.parameters(), cfg.d_optim)
        obj = Objective.from_config(cfg.loss)
        modules = {"G": G, "D": D} | ({"G_ema": G_ema} if G_ema is not None else {})
        optimizers = {"opt_g": opt_g, "opt_d": opt_d}
    noise_gen = torch.Generator().manual_seed(t.seed + 1)

    start = 0
    if resume is not None:
        run_dir = Path(resume)
        ckpt = checkpoint.resolve(run_dir)
        state = checkpoint.load_state(ckpt)
        if Config.from_dict(state["config"]) != _resumable(cfg):
            raise ConfigError(f"{run_dir} was trained with a different configuration; resume with the same one "
                              "(only train.steps may change).")
        for name, mod in modules.items():
            checkpoint.load_module_weights(ckpt, name, mod)
        rng = checkpoint.load_training_state(ckpt, optimizers)
        torch.set_rng_state(rng["torch"])
        noise_gen.set_state(rng["noise"])
        batcher.load_state_dict({"epoch": state["data"]["epoch"], "pos": state["data"]["pos"], "gen_state": rng["batcher"]})
        start = state["step"]
        if start >= t.steps:
            raise ConfigError(f"{run_dir} already has {start} steps; raise --steps above {start} to continue.")
    else:
        run_dir = new_run_dir(runs_root, cfg.name)
        (run_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1))

    ckpt_root = run_dir / "checkpoints"
    last_good = checkpoint.resolve(run_dir) if resume is not None else None
    # A fixed latent batch (and one row per class when conditional) shows progress on the same z.
    grid_gen = torch.Generator().manual_seed(t.seed + 2)
    grid_y = torch.from_numpy(class_grid_labels(num_classes, 10)).to(device) if num_classes else None
    grid_z = sample_z(len(grid_y) if num_classes else 64, cfg.model.z_dim, cfg.model.noise, grid_gen, device)
    if vae and is_image:
        holdout, holdout_y = _holdout_batch(cfg, x, y, 8 if not num_classes else 10, device)
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if t.bf16 else contextlib.nullcontext

    def save(step: int, name: str | None = None) -> Path:
        state = {"kind": cfg.kind, "config": _resumable(cfg).to_dict(), "img_shape": list(shape), "num_classes": num_classes,
                 "output": output, "data": {"epoch": batcher.epoch, "pos": batcher.pos}}
        rng = {"torch": torch.get_rng_state(), "noise": noise_gen.get_state(), "batcher": batcher.state_dict()["gen_state"]}
        return checkpoint.save_checkpoint(ckpt_root, step, modules, state, optimizers, rng, keep=t.keep_checkpoints, name=name)

    def write_grid(step: int) -> Path | None:
        if not is_image:
            return None
        net = sampler
        was_training = net.training
        with torch.no_grad(), torch.random.fork_rng(devices=[]):  # grids must not change the training RNG
            prepare_for_sampling(net)
            imgs = net(grid_z, grid_y)
            if vae:  # two more rows: held-out images and their reconstructions (posterior means)
                E.eval()
                mu, _ = E(holdout, holdout_y)
                recon = net(mu, holdout_y)
                E.train(was_training)
                imgs = torch.cat([imgs, holdout, recon])
        net.train(was_training)
        u8 = to_uint8_images(imgs.float().cpu(), cfg.data.scaling)
        save_grid(u8, run_dir / "samples" / f"step-{step:07d}.png", nrow=10 if num_classes else 8)
        return save_grid(u8, run_dir / "samples" / "latest.png", nrow=10 if num_classes else 8)

    sampler = G_ema if G_ema is not None else (VAEDecoder(G, cfg.vae.likelihood) if vae else G)
    sampler.scaling = cfg.data.scaling
    best = {"fid": float("inf"), "evals_since": 0}

    def evaluate_now(step: int) -> None:
        from ganforge.eval import quick_fid

        fid = quick_fid(sampler, n=t.eval_samples, seed=t.seed)
        monitor.record({"step": step, "fid": round(fid, 4), "eval_samples": t.eval_samples})
        if fid < best["fid"]:
            best.update(fid=fid, evals_since=0)
            save(step, name="best")
        else:
            best["evals_since"] += 1
            if t.early_stop and best["evals_since"] >= t.early_stop:
                monitor.write(f"early stop at step {step}: no better FID in {t.early_stop} evaluations "
                              f"(best {best['fid']:.2f}, kept in checkpoints/best).")
                stop.update(flag=True, reason="early stop")

    stop = {"flag": False, "reason": "signal"}
    previous = _install_stop_handlers(stop)
    monitor = Monitor(run_dir, t.steps, start, t.batch_size, 1 if vae else t.d_steps, obj.probabilities and not vae,
                      t.d_wins_patience, quiet)
    if t.bf16 and device.type == "cpu" and not cpu_has_native_bf16():
        monitor.write("warning: this CPU has no native bf16 (AVX-512 BF16 or AMX), so bf16 autocast is emulated: "
                      "measured 10-25x slower than float32 on an AVX2 EPYC. Train without --bf16 here.")
    step = start
    for name, module in modules.items():
        module.train(name != "G_ema")
    try:
        while step < t.steps and not stop["flag"]:
            if vae:
                real, yb = batcher.next()
                eps = sample_z(t.batch_size, cfg.model.z_dim, "gaussian", noise_gen, device)
                stats = vae_step(E, G, optimizers["opt_g"], to_model_range(real, cfg.data.scaling), yb, eps,
                                 cfg.vae, autocast)
            else:
                # 1) freeze G, train D (n_critic times)
                for _ in range(t.critic_steps(step)):
                    real, yb = batcher.next()
                    real = to_model_range(real, cfg.data.scaling)
                    z = sample_z(t.batch_size, cfg.model.z_dim, cfg.model.noise, noise_gen, device)
                    stats = d_step(G, D, opt_d, real, yb, z, obj, autocast)
                # 2) freeze D, train G
                z = sample_z(t.batch_size, cfg.model.z_dim, cfg.model.noise, noise_gen, device)
                yg = sample_labels(t.batch_size, num_classes, noise_gen, device)
                stats |= g_step(G, D, opt_g, z, yg, obj, autocast)
                if G_ema is not None:
                    ema_update(G_ema, G, cfg.model.ema, step)
            step += 1
            monitor.add(stats)
            if step % t.log_every == 0:
                monitor.flush(step, last_good)
            if step % t.sample_every == 0:
                write_grid(step)
            if step % t.checkpoint_every == 0:
                monitor.flush(step, last_good)  # never checkpoint weights that went non-finite
                last_good = save(step)
            if t.eval_every and step % t.eval_every == 0:
                monitor.flush(step, last_good)
                evaluate_now(step)
        monitor.flush(step, last_good)
        if stop["flag"] and stop["reason"] == "signal":
            monitor.write(f"stopped by signal at step {step}; writing a checkpoint.")
        if last_good is None or not last_good.name.endswith(f"{step:07d}"):
            last_good = save(step)
        grid = write_grid(step)
    finally:
        monitor.close()
        _restore_stop_handlers(previous)
    curve = plot_losses(run_dir / "metrics.jsonl", run_dir / "loss_curve.png") if (run_dir / "metrics.jsonl").exists() else None
    return RunResult(run_dir, last_good, grid, curve, step, interrupted=stop["flag"] and stop["reason"] == "signal",
                     early_stopped=stop["reason"] == "early stop")


def cpu_has_native_bf16() -> bool:
    """Whether oneDNN runs bf16 natively on this CPU (AVX-512 BF16 / AMX); elsewhere it emulates it slowly."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _holdout_batch(cfg: Config, x: torch.Tensor, y: torch.Tensor | None, n: int, device):
    """Images for the VAE's reconstruction rows: MNIST's test split when training on MNIST
    (truly held out), otherwise the last ``n`` training images."""
    if cfg.data.dataset in ("mnist", "mnist-train"):
        from ganforge.data.mnist import load_mnist

        xt, yt = load_mnist("test")
        hx, hy = images_to_nchw(xt[:n]), torch.from_numpy(yt[:n])
    else:
        hx, hy = x[-n:], None if y is None else y[-n:]
    hy = hy.to(device) if y is not None else None  # labels only for conditional models
    return to_model_range(hx.to(device), cfg.data.scaling), hy


def _resumable(cfg: Config) -> Config:
    """The part of the config that must match on resume (everything but the length)."""
    return cfg.override({"train.steps": 1})


def _install_stop_handlers(stop: dict):
    """Ctrl-C / SIGTERM finish the current step, write a checkpoint, and return."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        if stop["flag"]:  # second Ctrl-C: give up immediately
            raise KeyboardInterrupt
        stop.update(flag=True, reason="signal")

    return {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}


def _restore_stop_handlers(previous) -> None:
    for s, h in (previous or {}).items():
        signal.signal(s, h)
