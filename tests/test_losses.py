"""Masked, weighted per-task losses."""

import pytest
import torch
import torch.nn.functional as F

from sklearn_mtl.losses import MaskedMultiTaskLoss


def test_unweighted_binary_equals_mean_bce_per_task():
    torch.manual_seed(0)
    logits, target = torch.randn(8, 2), torch.randint(0, 2, (8, 2)).float()
    loss = MaskedMultiTaskLoss(["binary", "binary"], [1, 1])(logits, target)
    expected = F.binary_cross_entropy_with_logits(logits, target, reduction="none").mean(0)
    torch.testing.assert_close(loss, expected)


def test_zero_weight_removes_a_label_from_its_task_only():
    torch.manual_seed(0)
    logits, target = torch.randn(6, 2), torch.randint(0, 2, (6, 2)).float()
    weight = torch.ones(6, 2)
    weight[:3, 1] = 0
    loss = MaskedMultiTaskLoss(["binary", "binary"], [1, 1])(logits, target, weight)
    full = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    torch.testing.assert_close(loss, torch.stack([full[:, 0].mean(), full[3:, 1].mean()]))


def test_weights_give_a_weighted_mean_and_an_unlabelled_batch_gives_zero():
    logits = torch.zeros(4, 1)
    target = torch.tensor([[0.0], [1.0], [1.0], [1.0]])
    regression = MaskedMultiTaskLoss(["regression"], [1])
    weight = torch.tensor([[3.0], [1.0], [0.0], [0.0]])
    torch.testing.assert_close(regression(logits, target, weight), torch.tensor([0.25]))
    torch.testing.assert_close(regression(logits, target, torch.zeros(4, 1)), torch.tensor([0.0]))


def test_mixed_task_types_use_their_own_loss():
    torch.manual_seed(0)
    logits = torch.randn(5, 1 + 3 + 1)
    target = torch.tensor([[1.0, 2.0, 0.5], [0, 0, 1.5], [1, 1, -1], [0, 2, 0], [1, 0, 2]])
    loss = MaskedMultiTaskLoss(["binary", "multiclass", "regression"], [1, 3, 1])
    got = loss(logits, target, torch.ones(5, 3))
    expected = torch.stack(
        [
            F.binary_cross_entropy_with_logits(logits[:, 0], target[:, 0]),
            F.cross_entropy(logits[:, 1:4], target[:, 1].long()),
            F.mse_loss(logits[:, 4], target[:, 2]),
        ]
    )
    torch.testing.assert_close(got, expected)


def test_gradients_ignore_masked_cells():
    logits = torch.zeros(4, 2, requires_grad=True)
    weight = torch.tensor([[1.0, 0.0]] * 4)
    MaskedMultiTaskLoss(["binary"] * 2, [1, 1])(logits, torch.ones(4, 2), weight).sum().backward()
    assert (logits.grad[:, 1] == 0).all() and (logits.grad[:, 0] != 0).all()


def test_unknown_task_type_is_rejected():
    with pytest.raises(ValueError, match=r"Unknown task losses \['ordinal'\]"):
        MaskedMultiTaskLoss(["ordinal"], [1])
