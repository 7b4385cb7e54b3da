"""Gradient norms against depth for naive, Xavier/Glorot, orthogonal and He
initialisation, with and without residual connections and layer normalisation.

    python examples/depth_experiment.py                 # the table (about 15 s)
    python examples/depth_experiment.py --plot out.png  # and the curves (needs matplotlib)
"""

from __future__ import annotations

import argparse

import numpy as np

from mlcalc.diagnostics import depth_experiment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[10, 20, 50])
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--examples", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default=None, help="write the per-layer curves to this file")
    args = parser.parse_args()
    exp = depth_experiment(depths=tuple(args.depths), width=args.width,
                           n_examples=args.examples, seed=args.seed)
    print(exp.table())
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        depth = max(args.depths)
        fig, ax = plt.subplots(figsize=(8, 5))
        for row in exp.rows:
            if row.depth == depth:
                ax.semilogy(np.arange(1, row.grad_norms.size + 1), row.grad_norms,
                            label=row.config)
        ax.set_xlabel("layer (input side first)")
        ax.set_ylabel("‖∂L/∂W_l‖")
        ax.set_title(f"gradient norms through depth {depth}, width {args.width}")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
