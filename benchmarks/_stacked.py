"""Many small training runs of one architecture, trained as one vmapped module.

The MMoE paper's synthetic experiment repeats a tiny fit (100 inputs, a few
thousand weights) hundreds of times. One such fit cannot keep a CPU core, let
alone a GPU, busy; ``torch.func.stack_module_state`` and ``torch.func.vmap``
turn ``K`` of them into one module whose every parameter has a leading run
axis, so a step of all ``K`` runs is one set of batched kernels.

The runs stay independent: each has its own initialisation (the package's
module built under its own seed), its own data, its own shuffling, and Adam,
which works element by element, updates each run's slice exactly as it would
update a lone run. Runs may have different learning rates: each learning rate
is a parameter group of its own, concatenated along the run axis in the
forward pass.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import functional_call, stack_module_state, vmap


@dataclass
class Curves:
    """Per-run loss after every epoch: ``train`` (mean of the epoch's batch losses, each
    weighted by its rows) and ``valid`` (the held-out rows), both of shape (runs, epochs)."""

    train: np.ndarray
    valid: np.ndarray
    steps_per_epoch: int


def build_modules(architecture, in_features: int, n_tasks: int, init_seeds) -> list:
    """The package's module for every run, each initialised under its own seed."""
    modules = []
    for seed in init_seeds:
        torch.manual_seed(int(seed))
        modules.append(
            architecture.build(in_features, [1] * n_tasks, activation="relu", dropout=0.0)
        )
    return modules


def standardize(X: np.ndarray, Y: np.ndarray, n_train: int):
    """Inputs and targets scaled by each run's training rows, as the estimators do."""
    mean, std = (
        X[:, :n_train].mean(axis=1, keepdims=True),
        X[:, :n_train].std(axis=1, keepdims=True),
    )
    X = (X - mean) / np.where(std > 0, std, 1.0)
    y_mean, y_std = (
        Y[:, :n_train].mean(axis=1, keepdims=True),
        Y[:, :n_train].std(axis=1, keepdims=True),
    )
    Y = (Y - y_mean) / np.where(y_std > 0, y_std, 1.0)
    return X.astype(np.float32), Y.astype(np.float32)


def train_stacked(
    architecture,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    n_train: int,
    init_seeds,
    shuffle_seeds,
    learning_rates,
    epochs: int,
    batch_size: int = 256,
    device: str = "cpu",
) -> Curves:
    """Train ``K`` runs at once and return each run's training and held-out curves.

    Parameters
    ----------
    architecture : sklearn_mtl.architectures.Architecture
        The network of every run.
    X : ndarray of shape (K, n_rows, n_features)
        Each run's rows; the first ``n_train`` train, the others are held out.
    Y : ndarray of shape (K, n_rows, n_tasks)
        Each run's regression targets.
    n_train : int
        Training rows per run.
    init_seeds, shuffle_seeds : sequence of int of length K
        Seed of each run's initialisation and of its batch order.
    learning_rates : sequence of float of length K
        Adam's learning rate of each run.
    epochs, batch_size : int
        Passes over the training rows, and rows per step (the last step of an
        epoch takes the remainder, as a DataLoader does).
    device : str
        Where to train.

    Returns
    -------
    Curves
        The loss is the sum over tasks of the mean squared error on the
        standardised targets: the training loss of the estimators.
    """
    n_runs, n_rows, n_features = X.shape
    n_tasks = Y.shape[2]
    learning_rates = np.asarray(learning_rates, dtype=float)
    if not (len(init_seeds) == len(shuffle_seeds) == len(learning_rates) == n_runs):
        raise ValueError("init_seeds, shuffle_seeds and learning_rates need one entry per run")
    X, Y = standardize(X, Y, n_train)
    device = torch.device(device)
    X_train = torch.as_tensor(X[:, :n_train], device=device)
    Y_train = torch.as_tensor(Y[:, :n_train], device=device)
    X_valid = torch.as_tensor(X[:, n_train:], device=device)
    Y_valid = torch.as_tensor(Y[:, n_train:], device=device)

    modules = build_modules(architecture, n_features, n_tasks, init_seeds)
    template = copy.deepcopy(modules[0]).to("meta")
    stacked, buffers = stack_module_state(modules)
    buffers = {k: v.to(device) for k, v in buffers.items()}
    # one parameter group per learning rate, in order of first appearance
    rates = list(dict.fromkeys(learning_rates.tolist()))
    groups = [np.flatnonzero(learning_rates == lr) for lr in rates]
    order = np.concatenate(groups)  # the runs as the groups hold them
    inverse = torch.as_tensor(np.argsort(order), device=device)
    group_params = [
        {k: v[torch.as_tensor(g)].detach().to(device).requires_grad_() for k, v in stacked.items()}
        for g in groups
    ]
    fused = device.type in ("cpu", "cuda")
    optimizer = torch.optim.Adam(
        [{"params": list(p.values()), "lr": lr} for p, lr in zip(group_params, rates)],
        lr=rates[0],
        fused=fused,
    )

    def forward_one(params, buffers, x):
        return functional_call(template, (params, buffers), (x,))

    forward_all = vmap(forward_one)  # every run its own parameters, buffers and rows

    def params_in_run_order():
        if len(group_params) == 1:
            return group_params[0]
        return {k: torch.cat([p[k] for p in group_params])[inverse] for k in group_params[0]}

    def loss_per_run(x, y):
        out = forward_all(params_in_run_order(), buffers, x)  # (K, rows, n_tasks)
        return ((out - y) ** 2).mean(dim=1).sum(dim=1)  # (K,)

    orders = [np.random.RandomState(int(seed)) for seed in shuffle_seeds]
    steps = math.ceil(n_train / batch_size)
    runs = torch.arange(n_runs, device=device)[:, None]
    train_curve = torch.zeros(n_runs, epochs, device=device)
    valid_curve = torch.zeros(n_runs, epochs, device=device)
    for epoch in range(epochs):
        permutation = torch.as_tensor(
            np.stack([rng.permutation(n_train) for rng in orders]), device=device
        )
        total = torch.zeros(n_runs, device=device)
        for step in range(steps):
            rows = permutation[:, step * batch_size : (step + 1) * batch_size]  # (K, b)
            loss = loss_per_run(X_train[runs, rows], Y_train[runs, rows])
            optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()  # runs share no weight: each gets its own gradient
            optimizer.step()
            total += loss.detach() * rows.shape[1]
        train_curve[:, epoch] = total / n_train
        with torch.no_grad():
            valid_curve[:, epoch] = loss_per_run(X_valid, Y_valid)
    return Curves(train_curve.cpu().numpy(), valid_curve.cpu().numpy(), steps)


def count_parameters(architecture, in_features: int, n_tasks: int) -> int:
    """Trainable weights of one run's module."""
    (module,) = build_modules(architecture, in_features, n_tasks, [0])
    return sum(p.numel() for p in module.parameters())
