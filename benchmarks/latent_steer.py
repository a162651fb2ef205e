"""Steering success for every class, the entanglement tables and the latent directions
of one GAN run, as markdown (recorded in docs/latent.md). Run by hand:

    python benchmarks/latent_steer.py runs/001-mnist-dcgan --n 32 --steps 100

Uses the shipped MNIST classifier (28×28 runs only). Prints wall times.
"""

from __future__ import annotations

import argparse
import time

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--prior-weights", type=float, nargs="+", default=[0.1])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-entangle", action="store_true")
    ap.add_argument("--skip-classes", action="store_true")
    ap.add_argument("--entangle-steps", type=int, default=10, help="steering steps per property (default 10)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from ganforge.latent import entangle
    from ganforge.latent.sources import load_classifier, load_gan_generator
    from ganforge.latent.steer import class_log_prob, steer, steer_report

    G = load_gan_generator(args.run, "steer")
    clf = load_classifier(None)
    scaling = G.scaling
    z = torch.randn(args.n, G.z_dim, generator=torch.Generator().manual_seed(0))
    y = torch.randint(G.num_classes, (args.n,), generator=torch.Generator().manual_seed(1)) if G.num_classes else None
    for pw in ([] if args.skip_classes else args.prior_weights):
        t0 = time.perf_counter()
        print(f"\nsteering {args.n} samples per class, {args.steps} steps, lr {args.lr}, shell prior weight {pw}:\n")
        print("| class | classified as class before | after (success rate) | mean log p before → after "
              "| mean distance in z | mean \\|z\\| after | mean image change |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        rates = []
        for c in range(clf.num_classes):
            r = steer_report(steer(G, class_log_prob(clf, c, scaling), z, y, args.steps, args.lr, pw), clf, c, scaling)
            rates.append(r.success_after)
            print(f"| {c} | {100 * r.success_before:.0f}% | {100 * r.success_after:.0f}% | "
                  f"{r.mean_log_prob_before:.2f} → {r.mean_log_prob_after:.2f} | {r.mean_distance:.2f} | "
                  f"{r.mean_norm:.2f} (from {r.mean_norm0:.2f}) | {100 * r.mean_image_change:.1f}% |")
        print(f"\nmean success rate {100 * sum(rates) / len(rates):.1f}%; wall time {time.perf_counter() - t0:.0f} s")
    if args.skip_entangle:
        return
    t0 = time.perf_counter()
    table = entangle.steer_property_table(G, n=args.n, steps=args.entangle_steps, lr=args.lr,
                                          prior_weight=args.prior_weights[0], classifier=clf)
    print(f"\nsteering each property up ({args.entangle_steps} steps); change of every property in sd units:\n")
    print(table.markdown())
    dirs = entangle.latent_directions(G, n=2000)
    print("\nlatent directions (ridge regression of each property on z, 2000 samples, 400 held out):\n")
    print(dirs.markdown())
    print("\nmoving 2 units along each direction; change of every property in sd units:\n")
    print(entangle.direction_table(G, dirs, 2.0, n=args.n, classifier=clf).markdown())
    print(f"\nentanglement wall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
