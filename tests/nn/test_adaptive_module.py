"""The branching trunk of fully-adaptive feature sharing (sklearn_mtl.nn.adaptive)."""

import pytest
import torch

from sklearn_mtl.nn import SharedBottomModule
from sklearn_mtl.nn.adaptive import AdaptiveSharingModule, check_branches

TREE = [[(0, 1, 2, 3)], [(0, 1), (2, 3)], [(0,), (1,), (2, 3)]]


def _count(module):
    return sum(p.numel() for p in module.parameters())


def test_the_tree_decides_which_layer_each_task_reads():
    torch.manual_seed(0)
    module = AdaptiveSharingModule(
        5, [1, 1, 2, 1], units=(8, 6, 4), branches=TREE, tower_units=(3,)
    )
    out = module(torch.randn(7, 5))
    assert out.shape == (7, 5)  # 1 + 1 + 2 + 1 logits
    assert [len(layer) for layer in module.layers] == [1, 2, 3]
    assert module.task_branch.tolist() == [0, 1, 2, 2]
    # a task's logits depend only on the branches on its path: perturb branch (0,) of the top
    x = torch.randn(7, 5)
    before = module(x)
    with torch.no_grad():
        module.layers[2][0].weight.add_(1.0)
    after = module(x)
    assert not torch.allclose(before[:, 0], after[:, 0])  # task 0 reads it
    torch.testing.assert_close(before[:, 1:], after[:, 1:])  # the others do not


def test_one_branch_everywhere_is_a_shared_bottom():
    shared = AdaptiveSharingModule(6, [1, 1], units=(16,), tower_units=(4,))
    bottom = SharedBottomModule(6, [1, 1], bottom_units=(16,), tower_units=(4,))
    assert _count(shared) == _count(bottom)
    assert shared.branches == (((0, 1),),)


def test_growing_splits_branches_without_changing_the_function():
    torch.manual_seed(1)
    thin = AdaptiveSharingModule(5, [1, 1, 1, 1], units=(8, 6, 4), tower_units=(3,))
    x = torch.randn(11, 5)
    grown = thin.grown(TREE)
    torch.testing.assert_close(grown(x), thin(x))  # copies: the same function
    # one more branch of layer 1 (8 -> 6), two more of layer 2 (6 -> 4)
    assert _count(grown) == _count(thin) + (8 * 6 + 6) + 2 * (6 * 4 + 4)
    # the copies are separate parameters: training one branch leaves its sibling
    grown.layers[2][0].weight.data.add_(1.0)
    assert not torch.equal(grown.layers[2][0].weight, grown.layers[2][1].weight)
    assert torch.equal(thin.layers[2][0].weight, grown.layers[2][1].weight)


def test_growing_never_merges():
    module = AdaptiveSharingModule(3, [1, 1], units=(4, 4), branches=[[(0, 1)], [(0,), (1,)]])
    with pytest.raises(ValueError, match="growing only splits branches"):
        module.grown([[(0, 1)], [(0, 1)]])


@pytest.mark.parametrize(
    "branches, message",
    [
        ([[(0, 1, 2)]], "branches has 1 layers; the trunk has 2"),
        ([[(0, 1, 2)], [(0, 1), (1, 2)]], "each task in exactly one"),
        ([[(0, 1, 2)], [(0, 1)]], "each task in exactly one"),
        ([[(0,), (1, 2)], [(0, 1), (2,)]], "spans several branches of layer 0"),
    ],
)
def test_a_tree_that_is_not_a_tree_is_refused(branches, message):
    with pytest.raises(ValueError, match=message):
        check_branches(branches, 3, 2)


def test_no_trunk_layer_is_refused():
    with pytest.raises(ValueError, match="at least one trunk layer"):
        AdaptiveSharingModule(3, [1], units=())


def test_it_trains_and_scripts_through_autograd():
    torch.manual_seed(0)
    module = AdaptiveSharingModule(
        4, [1, 1, 1], units=(8, 8), branches=[[(0, 1, 2)], [(0, 1), (2,)]]
    )
    x, y = torch.randn(64, 4), torch.randn(64, 3)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
    first = None
    for _ in range(50):
        loss = ((module(x) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        first = first if first is not None else loss.item()
    assert loss.item() < first
    assert all(p.grad is not None for p in module.parameters())
