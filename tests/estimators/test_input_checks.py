"""What a network refuses or warns about in its input, targets, device and training.

The audit's cases (issue 29): float32 values beyond what the network's sums
hold, a float target of whole numbers read as hundreds of classes, a learning
rate that ruins the fit without a word, and devices other than CUDA.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_mtl import MMoEClassifier, MMoERegressor, MultiTaskNet
from sklearn_mtl.architectures import MMoE
from sklearn_mtl.datasets import make_task_pair

ARCHITECTURE = {"n_experts": 2, "expert_units": (8,), "tower_units": (4,)}
SMALL = {**ARCHITECTURE, "batch_size": 64}


@pytest.fixture(scope="module")
def fitted():
    X, Y = make_task_pair(300, 0.5, n_features=3, target="binary", random_state=0)
    return MMoEClassifier(**SMALL, max_epochs=2, random_state=0).fit(X, Y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_beyond_float32s_safe_range_are_refused_in_either_dtype(fitted, dtype):
    """float32 input used to skip the check: 3e38 predicted NaN silently."""
    with pytest.raises(ValueError, match=r"X has values beyond float32's range .* column\(s\) \[0"):
        fitted.predict(np.full((2, 3), 3e38, dtype))
    X, Y = make_task_pair(300, 0.5, n_features=3, target="binary", random_state=0)
    X = X.astype(dtype)
    X[5, 1] = -3e38
    with pytest.raises(ValueError, match=r"column\(s\) \[1\]"):
        MMoEClassifier(**SMALL, max_epochs=1).fit(X, Y)


def test_a_float32_column_of_huge_values_trains():
    """A float32 column near 2e19 trained every epoch, then raised FloatingPointError: its
    squared deviations overflowed float32 in the input statistics."""
    X, Y = make_task_pair(400, 0.5, n_features=3, target="regression", random_state=0)
    X = X.astype(np.float32)
    scaled = X.copy()
    scaled[:, 0] = X[:, 0] * np.float32(1e19) + np.float32(2e19)
    model = MMoERegressor(**SMALL, max_epochs=30, lr=1e-2, random_state=0).fit(scaled, Y)
    plain = MMoERegressor(**SMALL, max_epochs=30, lr=1e-2, random_state=0).fit(X, Y)
    assert np.isfinite(model.predict(scaled)).all()
    assert model.score(scaled, Y) == pytest.approx(plain.score(X, Y), abs=0.05)


# ------------------------------------------------ task types read off the labels


def test_a_float_target_of_whole_numbers_is_a_regression_with_a_warning():
    """Penguins' body_mass_g (float grams) became a 94-class classifier (R^2 0.58 against 0.845
    with the types declared); the only sign was scikit-learn's generic warning."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    grams = np.round(4000 + 500 * X[:, 0] + 50 * rng.standard_normal(300), -1)  # whole numbers
    Y = np.column_stack([(X[:, 1] > 0).astype(float), grams])
    net = MultiTaskNet(MMoE(**ARCHITECTURE), max_epochs=2, random_state=0)
    with pytest.warns(
        UserWarning, match=r"Task 1 of y holds floats with \d+ distinct whole-number"
    ):
        net.fit(X, Y)
    assert net.task_types_ == ["binary", "regression"]
    assert net.predict(X)[:, 1].dtype.kind == "f"


def test_integer_and_declared_classes_stay_classes(recwarn):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4))
    Y = np.column_stack([rng.integers(0, 5, 200), rng.integers(0, 2, 200)])
    net = MultiTaskNet(MMoE(**ARCHITECTURE), max_epochs=1, random_state=0).fit(X, Y)
    assert net.task_types_ == ["multiclass", "binary"]
    declared = MultiTaskNet(MMoE(**ARCHITECTURE), max_epochs=1, task_types=["multiclass", "binary"],
                            random_state=0).fit(X, Y.astype(float))  # fmt: skip
    assert declared.task_types_ == ["multiclass", "binary"]
    assert not [w for w in recwarn if "whole-number" in str(w.message)]


def test_a_binary_float_column_with_missing_labels_stays_binary(recwarn):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4))
    Y = rng.integers(0, 2, (200, 2)).astype(float)
    Y[::7, 0] = np.nan
    assert MultiTaskNet(MMoE(**ARCHITECTURE), max_epochs=1).fit(X, Y).task_types_ == ["binary"] * 2
    assert not [w for w in recwarn if "whole-number" in str(w.message)]


# ------------------------------------------------ a learning rate that ruins the fit


def test_a_fit_worse_than_a_constant_warns():
    """MMoERegressor(lr=100) gave an R^2 of -5e10 with finite predictions and no warning:
    the first epoch's loss was already huge, so the growth check saw nothing."""
    X, Y = make_task_pair(500, 0.5, n_features=4, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"worse than a constant would, on task\(s\) 0, 1 "
                      r".*Training diverged. Try a lower lr \(it is 100\)"):  # fmt: skip
        model = MMoERegressor(**SMALL, lr=100, max_epochs=3, random_state=0).fit(X, Y)
    assert model.score(X, Y) < -1


def test_a_fit_that_learnt_raises_no_convergence_warning():
    X, Y = make_task_pair(500, 0.5, n_features=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MMoERegressor(**SMALL, max_epochs=10, lr=1e-2, random_state=0).fit(X, Y)
        Xb, Yb = make_task_pair(500, 0.5, n_features=4, target="binary", random_state=0)
        MMoEClassifier(**SMALL, max_epochs=10, lr=1e-2, random_state=0).fit(Xb, Yb)


# ------------------------------------------------ devices


@pytest.mark.parametrize("device", ["mps", "xpu", "meta", "vulkan"])
def test_every_device_kind_gets_a_clean_error(device):
    """device='mps' (or 'xpu') raised a raw torch error where 'cuda' got a clean ValueError."""
    X, Y = make_task_pair(100, 0.5, n_features=3, target="binary", random_state=0)
    model = MMoEClassifier(**SMALL, max_epochs=1, device=device)
    import torch

    try:
        torch.empty(1, device=device)
        usable = device != "meta"
    except Exception:
        usable = False
    if usable:
        pytest.skip(f"this machine has a {device} device")
    with pytest.raises(ValueError, match=f"device='{device}'|'meta' holds shapes only"):
        model.fit(X, Y)
    assert not hasattr(model, "net_")


def test_a_string_that_is_no_device_is_refused():
    X, Y = make_task_pair(100, 0.5, n_features=3, target="binary", random_state=0)
    with pytest.raises(ValueError, match="must be a torch device such as 'cpu'"):
        MMoEClassifier(**SMALL, max_epochs=1, device="gpu").fit(X, Y)
