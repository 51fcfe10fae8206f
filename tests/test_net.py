"""The private skorch net: losses read once per epoch give skorch's history exactly."""

import numpy as np
import pytest
import torch

from sklearn_mtl._data import ShuffleSplitDataset, TensorBatchDataset
from sklearn_mtl._divergence import StopOnNonFiniteLoss
from sklearn_mtl._net import MultiTaskCriterion, MultiTaskNeuralNet
from sklearn_mtl.losses import MaskedMultiTaskLoss
from sklearn_mtl.nn import MMoE
from sklearn_mtl.weighting import Equal


def train(loss_sync, X, Y, lr=1e-2, max_epochs=3):
    torch.manual_seed(0)
    weighting = Equal()
    weighting.setup(["regression", "regression"])
    net = MultiTaskNeuralNet(
        module=MMoE(X.shape[1], [1, 1], n_experts=2, expert_units=(8,), tower_units=(4,)),
        criterion=MultiTaskCriterion(MaskedMultiTaskLoss(["regression"] * 2, [1, 1]), weighting),
        optimizer=torch.optim.SGD,
        lr=lr,
        max_epochs=max_epochs,
        batch_size=32,
        iterator_train__shuffle=True,
        train_split=ShuffleSplitDataset(0.25, random_state=0),
        callbacks=[("stop_on_non_finite_loss", StopOnNonFiniteLoss())],
        loss_sync=loss_sync,
        verbose=0,
    )
    return net.fit(TensorBatchDataset(X, Y), y=None)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5)).astype(np.float32)
    Y = np.column_stack([X[:, 0], X[:, 1] - X[:, 2]]).astype(np.float32)
    return X, Y


def test_epoch_sync_records_the_same_history_as_batch_sync(data):
    per_batch, per_epoch = train("batch", *data), train("epoch", *data)
    for key in ["train_loss", "valid_loss"]:
        expected = per_batch.history[:, "batches", :, key]
        recorded = per_epoch.history[:, "batches", :, key]
        assert all(isinstance(v, float) for epoch in recorded for v in epoch)
        assert recorded == expected
        assert per_epoch.history[:, key] == per_batch.history[:, key]
    assert per_epoch.history[:, "train_batch_count"] == [5, 5, 5]  # 150 rows / 32


def test_epoch_sync_still_stops_a_diverging_fit(data):
    X, Y = data
    with pytest.raises(FloatingPointError, match="training loss became .* at epoch 1"):
        train("epoch", X * 1e3, Y, lr=1e6)


def test_unknown_loss_sync_is_an_error(data):
    with pytest.raises(ValueError, match="loss_sync must be 'batch' or 'epoch'"):
        train("step", *data)


# skorch's own code that MultiTaskNeuralNet overrides (run_single_epoch, for losses read once
# per epoch on a GPU; _set_training, for its per-step cost), as the shape of its syntax tree
# without the docstring. Identical in skorch 1.1.0 to 1.4.0; pyproject.toml pins skorch<1.5.
SKORCH_METHOD_SHAPES = {
    "run_single_epoch": "e2421301945e6ba9",
    "_set_training": "bb2d6160ba7e42aa",
}


def _method_shape(function) -> str:
    import ast
    import hashlib
    import inspect
    import textwrap

    tree = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    body = [
        node
        for node in tree.body
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    text = ast.dump(tree.args) + "".join(ast.dump(node) for node in body)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@pytest.mark.parametrize("name", sorted(SKORCH_METHOD_SHAPES))
def test_the_skorch_methods_we_override_are_the_ones_we_copied(name):
    from skorch import NeuralNet

    assert _method_shape(getattr(NeuralNet, name)) == SKORCH_METHOD_SHAPES[name], (
        f"skorch's NeuralNet.{name} changed: review MultiTaskNeuralNet.{name} against it, "
        "then update SKORCH_METHOD_SHAPES and the skorch bound in pyproject.toml"
    )


def test_the_net_overrides_no_other_skorch_loop_method():
    """partial_fit and fit_loop are skorch's own: rewinding on an interrupt is a callback."""
    from skorch import NeuralNet

    from sklearn_mtl._net import MultiTaskNeuralNet

    overridden = {
        name
        for name, value in vars(MultiTaskNeuralNet).items()
        if callable(value) and name in vars(NeuralNet)
    }
    public_hooks = {"__init__", "infer", "get_loss", "train_step_single", "initialize_module"}
    assert overridden - public_hooks == set(SKORCH_METHOD_SHAPES)
