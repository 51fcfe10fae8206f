"""The private skorch net: losses read once per epoch give skorch's history exactly."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn_mtl._training.criterion import MultiTaskCriterion
from sklearn_mtl._training.data import ShuffleSplitDataset, TensorBatchDataset
from sklearn_mtl._training.divergence import StopOnNonFiniteLoss
from sklearn_mtl._training.net import MultiTaskNeuralNet
from sklearn_mtl.losses import MaskedMultiTaskLoss
from sklearn_mtl.nn import MMoEModule
from sklearn_mtl.weighting import Equal


def train(loss_sync, X, Y, lr=1e-2, max_epochs=3, optimizer=torch.optim.SGD, **options):
    torch.manual_seed(0)
    weighting = Equal()
    weighting.setup(["regression", "regression"])
    net = MultiTaskNeuralNet(
        module=MMoEModule(X.shape[1], [1, 1], n_experts=2, expert_units=(8,), tower_units=(4,)),
        criterion=MultiTaskCriterion(MaskedMultiTaskLoss(["regression"] * 2, [1, 1]), weighting),
        optimizer=optimizer,
        lr=lr,
        max_epochs=max_epochs,
        batch_size=32,
        iterator_train__shuffle=True,
        train_split=ShuffleSplitDataset(0.25, random_state=0),
        callbacks=[("stop_on_non_finite_loss", StopOnNonFiniteLoss())],
        loss_sync=loss_sync,
        verbose=0,
        **options,
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
# per epoch on a GPU; _set_training, notify and _step_optimizer, for their per-step cost), as
# the shape of its syntax tree without the docstring. Identical in skorch 1.1.0 to 1.4.0;
# pyproject.toml pins skorch<1.5.
SKORCH_METHOD_SHAPES = {
    "run_single_epoch": "e2421301945e6ba9",
    "_set_training": "bb2d6160ba7e42aa",
    "notify": "4347d7d65f3142af",
    "_step_optimizer": "c349f0a99b6938ff",
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

    from sklearn_mtl._training.net import MultiTaskNeuralNet

    overridden = {
        name
        for name, value in vars(MultiTaskNeuralNet).items()
        if callable(value) and name in vars(NeuralNet)
    }
    public_hooks = {"__init__", "__getstate__", "__setstate__", "infer", "get_loss"}
    public_hooks |= {"train_step_single", "initialize_module"}
    assert overridden - public_hooks == set(SKORCH_METHOD_SHAPES)


class CountingCallback(Callback):
    """Counts the hooks it implements; one of them set on the instance, not the class."""

    def __init__(self):
        self.calls = {"on_batch_begin": 0, "on_grad_computed": 0, "on_epoch_end": 0}
        self.on_epoch_end = self._epoch_end  # an instance attribute is a listener too

    def on_batch_begin(self, net, **kwargs):
        self.calls["on_batch_begin"] += 1

    def on_grad_computed(self, net, named_parameters=None, **kwargs):
        self.calls["on_grad_computed"] += 1
        self.gradients = [p.grad is not None for _, p in named_parameters]

    def _epoch_end(self, net, **kwargs):
        self.calls["on_epoch_end"] += 1


def test_every_callback_that_implements_a_hook_is_notified(data):
    """The net skips Callback's no-op methods; every real one still runs, at every step."""
    X, Y = data
    counting = CountingCallback()
    net = train("batch", X, Y)
    net.set_params(callbacks=[("counting", counting)], train_split=None).fit(
        TensorBatchDataset(X, Y), y=None
    )
    steps = 3 * 7  # 200 rows in batches of 32
    assert counting.calls == {"on_batch_begin": steps, "on_grad_computed": steps,
                              "on_epoch_end": 3}  # fmt: skip
    assert counting.gradients and all(counting.gradients)
    assert len(net.history) == 3 and net.history[-1, "train_loss"] > 0  # skorch's own callbacks
    # a callback added after the listeners were collected is called too
    net.callbacks_.append(("late", late := CountingCallback()))
    net.partial_fit(TensorBatchDataset(X, Y), y=None, epochs=1)
    assert late.calls["on_batch_begin"] == 7


def test_an_optimizer_that_needs_its_closure_still_gets_it(data):
    """LBFGS evaluates the step's closure several times: skorch's closure path is kept."""
    X, Y = data
    evaluations = []
    net = train("batch", X, Y, lr=0.5, max_epochs=2, optimizer=torch.optim.LBFGS,
                optimizer__max_iter=3)  # fmt: skip
    step = net.train_step_single
    net.train_step_single = lambda *a, **k: evaluations.append(1) or step(*a, **k)
    net.partial_fit(TensorBatchDataset(X, Y), y=None, epochs=1)
    assert len(evaluations) > net.history[-1, "train_batch_count"]  # several per step
    losses = net.history[:, "train_loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]


def test_named_optimizers_run_fused_and_a_given_class_is_left_alone():
    from sklearn_mtl import SharedBottomRegressor

    X, Y = np.random.default_rng(0).standard_normal((64, 3)), np.zeros((64, 2))
    for name in ["adam", "adamw", "sgd", "adagrad"]:
        model = SharedBottomRegressor((4,), tower_units=(), optimizer=name, max_epochs=1)
        assert model.fit(X, Y).net_.optimizer_.defaults["fused"] is True
    model = SharedBottomRegressor((4,), optimizer="rmsprop", max_epochs=1).fit(X, Y)
    assert "fused" not in model.net_.optimizer_.defaults  # torch has no fused RMSprop
    model = SharedBottomRegressor((4,), optimizer=torch.optim.Adam, max_epochs=1).fit(X, Y)
    assert not model.net_.optimizer_.defaults["fused"]


def test_the_epochs_task_losses_are_the_mean_of_its_batches(data):
    from sklearn_mtl import SharedBottomRegressor

    X, Y = data
    model = SharedBottomRegressor((8,), max_epochs=1, batch_size=50, random_state=0).fit(X, Y)
    weighting = model.net_.criterion_.weighting
    weighting.observe(torch.tensor([5.0, 7.0]))  # a half-done epoch, then an interrupt:
    model.partial_fit(X, Y)  # forgotten when the next epoch begins
    losses = np.array(model.net_.history[-1, "train_task_losses"])
    assert losses.shape == (2,) and weighting.observed == []
    # the objective is the sum of the task losses, so with equal batches the mean of
    # the batches' objectives is the sum of the mean task losses
    batch_losses = model.net_.history[-1, "batches", :, "train_loss"]
    assert len(batch_losses) == 4
    np.testing.assert_allclose(losses.sum(), np.mean(batch_losses), rtol=1e-5)
