"""Fit one estimator in every process of a ``torchrun`` job; the main process saves it.

Run by ``tests/training/test_distributed.py`` as ``python -m torch.distributed.run
--standalone --nproc-per-node N tests/training/distributed_fit.py FOLDER NAME...`` and as
``accelerate launch --cpu --num_processes N ...``: it fits each NAME in turn
and pickles it to FOLDER/NAME.pkl; with ``--no-accelerator`` it fits in one
process without one.
"""

import argparse
import pickle
from pathlib import Path

import numpy as np

from sklearn_mtl import MMoEClassifier, PLERegressor
from sklearn_mtl.datasets import make_task_pair

ESTIMATORS = {
    "mmoe-classifier": lambda: MMoEClassifier(
        4, expert_units=(8,), tower_units=(4,), max_epochs=3, batch_size=64, lr=1e-2
    ),
    # early stopping: a validation set that every process evaluates whole; it stops
    # at epoch 5 and loads epoch 4's weights back into the unwrapped module
    "ple-regressor": lambda: PLERegressor(
        1,
        n_shared_experts=2,
        expert_units=(8,),
        max_epochs=8,
        batch_size=64,
        lr=0.05,
        lr_schedule="constant",
        early_stopping=True,
        n_iter_no_change=1,
        validation_fraction=0.25,
    ),  # fmt: skip
    # a task with a fifth of its labels: the epoch's loss normalisation, a split stratified
    # on that task, early stopping on its validation loss, and two networks, one per
    # numeric embedding, of which the one of lower validation loss is kept
    "mmoe-scarce-labels": lambda: MMoEClassifier(
        4,
        expert_units=(8,),
        tower_units=(4,),
        max_epochs=6,
        batch_size=64,
        lr=1e-2,
        early_stopping=True,
        early_stopping_task=0,
        loss_normalization="epoch",
        numeric_embedding="auto",
        numeric_embedding_size=4,
        validation_fraction=0.25,
    ),  # fmt: skip
    # an efficient ensemble of three members: the mean of their losses, gradients averaged
    # over the processes as for one network
    "mmoe-ensemble": lambda: MMoEClassifier(
        4,
        expert_units=(8,),
        tower_units=(4,),
        n_ensemble=3,
        max_epochs=3,
        batch_size=64,
        lr=1e-2,
    ),  # fmt: skip
}


ESTIMATORS["mmoe-partial-fit"] = ESTIMATORS["mmoe-classifier"]  # three partial_fit calls


def data(name):
    target = "regression" if name.endswith("regressor") else "binary"
    X, Y = make_task_pair(640, 0.5, n_features=10, target=target, random_state=0)
    if name.endswith("scarce-labels"):
        Y = Y.astype(float)
        Y[np.random.default_rng(0).permutation(len(Y))[128:], 0] = np.nan
    return X, Y


def fit(name, accelerator=None, verbose=0):
    X, Y = data(name)
    model = ESTIMATORS[name]().set_params(accelerator=accelerator, random_state=0, verbose=verbose)
    if name.endswith("partial-fit"):
        for _ in range(3):
            model.partial_fit(X, Y, classes=[[0, 1], [0, 1]])
        return model
    return model.fit(X, Y)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("output", help="folder for NAME.pkl")
    parser.add_argument("names", nargs="+", choices=sorted(ESTIMATORS))
    parser.add_argument("--no-accelerator", action="store_true")
    args = parser.parse_args()
    accelerator = None
    if not args.no_accelerator:
        from accelerate import Accelerator

        accelerator = Accelerator(cpu=True)
    for name in args.names:  # one launch for several fits: process start-up is the slow part
        model = fit(name, accelerator, verbose=1)
        if accelerator is None or accelerator.is_main_process:
            with open(Path(args.output) / f"{name}.pkl", "wb") as file:
                pickle.dump(model, file)
            processes = 1 if accelerator is None else accelerator.num_processes
            print(f"{name}: processes={processes}", flush=True)


if __name__ == "__main__":
    main()
