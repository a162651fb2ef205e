"""How long does `ganforge evaluate` take for 10,000 samples against the 10,000 MNIST
test images on this machine? (Target: under 2 minutes on 2 CPU cores.)

    python benchmarks/evaluate_speed.py [--threads 2] [-n 10000]

Samples: n MNIST training images with Gaussian pixel noise (sd 20/255, seeded), so
every metric has real work to do (nothing is a copy, nothing is identical to the
reference). Measures a cold run (empty $GANFORGE_HOME/eval: reference features and the
real-vs-real floor are computed and cached), a warm run (both cached: the usual case),
and each stage on its own. Prints wall-clock seconds and the process CPU seconds (user+sys of this process and
its threads): on a shared machine the wall time depends on the neighbours, the CPU time
much less; with --threads 1 the CPU time is what a dedicated core would take.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--skip-cold", action="store_true", help="only the warm run and the stages")
    args = ap.parse_args()

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from ganforge.data.cache import ganforge_home
    from ganforge.data.mnist import load_mnist
    from ganforge.eval import evaluate
    from ganforge.eval import metrics as M
    from ganforge.eval.c2st import c2st
    from ganforge.eval.c2st_pixels import c2st_pixels
    from ganforge.eval.extractor import extract, load_extractor
    from ganforge.eval.memorisation import memorisation

    train, _ = load_mnist("train")
    test, _ = load_mnist("test")
    rng = np.random.default_rng(123)
    idx = rng.choice(len(train), args.n, replace=False)
    noisy = train[idx].astype(np.float32) + rng.normal(0, 20, (args.n, 28, 28))
    samples = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
    tmp = tempfile.mkdtemp(prefix="gf-evalspeed-")
    path = os.path.join(tmp, "samples.npz")
    np.savez(path, images=samples)

    rows = []
    eval_dir = ganforge_home() / "eval"
    if not args.skip_cold:
        # Cold: a private cache dir so the user's cache is untouched.
        old = os.environ.get("GANFORGE_HOME")
        cold_home = os.path.join(tmp, "home")
        os.makedirs(cold_home)
        # MNIST itself stays where it is (linking it avoids a second download).
        os.symlink(ganforge_home() / "mnist.npz", os.path.join(cold_home, "mnist.npz"))
        os.environ["GANFORGE_HOME"] = cold_home
        t, c = time.perf_counter(), time.process_time()
        evaluate(path, n=args.n)
        rows.append(("evaluate, cold cache (features + floor computed)", time.perf_counter() - t, time.process_time() - c))
        eval_dir = os.path.join(cold_home, "eval")
        t, c = time.perf_counter(), time.process_time()
        rep = evaluate(path, n=args.n)
        rows.append(("evaluate, warm cache (the usual case)", time.perf_counter() - t, time.process_time() - c))
        if old is None:
            os.environ.pop("GANFORGE_HOME")
        else:
            os.environ["GANFORGE_HOME"] = old
    else:
        evaluate(path, n=args.n)
        t, c = time.perf_counter(), time.process_time()
        rep = evaluate(path, n=args.n)
        rows.append(("evaluate, warm cache (the usual case)", time.perf_counter() - t, time.process_time() - c))

    ext = load_extractor()
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")  # as evaluate() does

    def stage(name, fn):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        rows.append((f"  stage: {name}", time.perf_counter() - t, time.process_time() - c))
        return out

    f, p = stage("extractor features, n samples", lambda: extract(samples, ext))
    rf, _ = stage("extractor features, 10k reference (cached in evaluate)", lambda: extract(test, ext))
    stage("FID + bootstrap CI (100)", lambda: M.fid_bootstrap_ci(rf, f, num=100))
    stage("KID (100 subsets of 1000)", lambda: M.kid(rf, f))
    stage("precision/recall + density/coverage", lambda: M.manifold_metrics(rf, f))
    stage("1-NN two-sample test", lambda: M.one_nn_accuracy(rf, f))
    stage("C2ST on features (logistic, 5-fold)", lambda: c2st(rf, f))
    stage("C2ST on pixels (small CNN, 4 epochs)", lambda: c2st_pixels(test, samples))
    stage("memorisation (n x 60k pixel NN)", lambda: memorisation(samples, train))
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"ganforge evaluate speed: {args.n} samples vs 10000 MNIST test images, "
          f"torch threads {torch.get_num_threads()}, {os.cpu_count()} CPUs visible")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(f"{'':<60}{'wall s':>8}{'CPU s':>8}")
    for name, sec, cpu in rows:
        print(f"{name:<60}{sec:8.1f}{cpu:8.1f}")
    print()
    print(rep.table())


if __name__ == "__main__":
    main()
