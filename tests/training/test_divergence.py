"""A diverging fit raises or warns; it never returns a model that predicts NaN."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

from sklearn_mtl import ESMMClassifier, MMoEClassifier, PLERegressor, SharedBottomRegressor
from sklearn_mtl.datasets import make_click_conversion, make_task_pair


@pytest.fixture(scope="module")
def regression():
    return make_task_pair(480, 0.5, n_features=6, random_state=0)


@pytest.fixture(scope="module")
def funnel():
    return make_click_conversion(480, random_state=0)


def test_weights_blown_up_in_the_last_step_stop_the_fit(regression, funnel):
    """The audit's PLERegressor and ESMMClassifier: finite loss, then NaN predictions.

    One SGD step with a huge lr leaves weights of about 1e19: finite, but the
    outputs overflow. ``fit`` used to return that model.
    """
    X, Y = regression
    model = PLERegressor(max_epochs=1, batch_size=480, lr=1e20, optimizer="sgd", random_state=0)
    with pytest.raises(FloatingPointError, match="outputs on the training rows are NaN") as error:
        model.fit(X, Y)
    assert "regression targets" in str(error.value)
    assert not hasattr(model, "net_")
    X, Y = funnel
    model = ESMMClassifier(max_epochs=1, batch_size=480, lr=1e20, optimizer="sgd", random_state=0)
    with pytest.raises(FloatingPointError, match="training diverged in its last steps") as error:
        model.fit(X, Y)
    assert "regression" not in str(error.value) and "try a lower lr" in str(error.value).lower()
    assert not hasattr(model, "net_")


class PoisonLastEpoch(Callback):
    """Sets one weight to inf after the last epoch's loss was recorded."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            with torch.no_grad():
                next(net.module_.parameters()).view(-1)[0] = float("inf")


def test_a_non_finite_weight_at_the_end_of_training_stops_the_fit(regression):
    X, Y = regression
    model = SharedBottomRegressor(max_epochs=2, random_state=0, callbacks=[PoisonLastEpoch(2)])
    with pytest.raises(FloatingPointError, match="module's .* holds NaN or infinite values"):
        model.fit(X, Y)
    assert not hasattr(model, "net_")


def test_a_diverging_partial_fit_leaves_the_model_it_had(regression):
    X, Y = regression
    model = SharedBottomRegressor(max_epochs=1, random_state=0).partial_fit(X, Y)
    before = model.predict(X)
    model.net_.callbacks_.append(("poison", PoisonLastEpoch(2)))
    with pytest.raises(FloatingPointError, match="holds NaN or infinite values"):
        model.partial_fit(X, Y)
    assert model.n_iter_ == 1 == len(model.net_.history)
    np.testing.assert_array_equal(model.predict(X), before)
    model.net_.callbacks_.pop()
    model.partial_fit(X, Y)  # the optimizer state was restored too: training goes on
    assert model.n_iter_ == 2 and np.isfinite(model.predict(X)).all()
    # a warm-started fit takes the same path
    before = model.predict(X)
    model.set_params(warm_start=True, max_epochs=2)
    model.net_.callbacks_.append(("poison", PoisonLastEpoch(4)))
    with pytest.raises(FloatingPointError, match="holds NaN or infinite values"):
        model.fit(X, Y)
    assert model.n_iter_ == 2
    np.testing.assert_array_equal(model.predict(X), before)


def test_a_loss_that_grows_a_thousandfold_warns(funnel):
    """The audit saw a loss of 1e21 end a fit without a word."""
    X, Y = funnel
    model = ESMMClassifier(max_epochs=2, batch_size=480, lr=1e3, optimizer="sgd", random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"training loss grew from .* more than 1000 times"):
        model.fit(X, Y)
    losses = model.net_.history[:, "train_loss"]
    assert losses[-1] > 1e3 * losses[0]


def test_a_converging_fit_does_not_warn(regression, recwarn):
    X, Y = regression
    MMoEClassifier(max_epochs=10, lr=1e-2, random_state=0).fit(X, Y > 0)
    assert not [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]


def test_a_nan_loss_names_the_advice_of_the_task_type(regression, funnel):
    X, Y = regression
    with pytest.raises(FloatingPointError, match="loss became .* regression targets"):
        PLERegressor(max_epochs=2, lr=1e6, optimizer="sgd", random_state=0).fit(X, Y)
    X, Y = funnel
    with pytest.raises(FloatingPointError, match="loss became") as error:
        ESMMClassifier(max_epochs=2, lr=1e6, optimizer="sgd", random_state=0).fit(X, Y)
    assert "regression" not in str(error.value) and "standardise" not in str(error.value)
