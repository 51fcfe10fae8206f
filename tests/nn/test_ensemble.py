"""Efficient ensembles (BatchEnsemble): the layers, the members' mean and the architectures."""

import pytest
import torch
from torch import nn

from sklearn_mtl.losses import MaskedMultiTaskLoss
from sklearn_mtl.nn import (
    EnsembleExperts,
    EnsembleHead,
    EnsembleLinear,
    EnsembleMean,
    EnsembleMLP,
    MMoEModule,
    OMoEModule,
    PLEModule,
    SharedBottomModule,
    SoftmaxGate,
)
from sklearn_mtl.nn.ensemble import from_members, to_members

K = 3


def test_a_member_computes_batch_ensembles_formula():
    torch.manual_seed(0)
    layer = EnsembleLinear(5, 4, K, random_signs=True)
    with torch.no_grad():  # members that differ in every parameter
        for p in (layer.s, layer.bias):
            p.normal_()
    x = torch.randn(K * 7, 5)
    out = layer(x).view(K, 7, 4)
    for m in range(K):
        expected = ((x.view(K, 7, 5)[m] * layer.r[m]) @ layer.weight) * layer.s[m] + layer.bias[m]
        torch.testing.assert_close(out[m], expected)
    # TabM's start: the first layer's r has random signs, s is one, the biases are equal
    assert set(torch.unique(EnsembleLinear(5, 4, K, random_signs=True).r).tolist()) <= {-1.0, 1.0}
    fresh = EnsembleLinear(5, 4, K)
    assert torch.all(fresh.r == 1) and torch.all(fresh.s == 1)
    assert torch.all(fresh.bias == fresh.bias[0])


def test_the_layer_agrees_with_tabms_linear_batch_ensemble():
    tabm = pytest.importorskip("tabm")
    torch.manual_seed(1)
    ours = EnsembleLinear(6, 3, K, random_signs=True)
    theirs = tabm.LinearBatchEnsemble(6, 3, k=K, scaling_init="random-signs")
    with torch.no_grad():
        theirs.weight.copy_(ours.weight.T)  # (out, in) there
        theirs.r.copy_(ours.r)
        theirs.s.normal_()
        ours.s.copy_(theirs.s)
        theirs.bias.normal_()
        ours.bias.copy_(theirs.bias)
    x = torch.randn(5, K, 6)  # (batch, k, in) there; member-major rows here
    expected = theirs(x)  # (batch, k, out)
    got = ours(x.transpose(0, 1).reshape(K * 5, 6)).view(K, 5, 3).transpose(0, 1)
    torch.testing.assert_close(got, expected)


def test_a_bank_is_independent_layers_and_reads_a_shared_input():
    torch.manual_seed(2)
    bank = EnsembleLinear(4, 2, K, bank=5, random_signs=True)
    x = torch.randn(K * 3, 4)
    out = bank(x).view(K, 3, 5, 2)
    xm = x.view(K, 3, 4)
    for m in range(K):
        for e in range(5):
            w, r, s, b = bank.weight[e], bank.r[m, e], bank.s[m, e], bank.bias[m, e]
            torch.testing.assert_close(out[m, :, e], ((xm[m] * r) @ w) * s + b)
    per_expert = torch.randn(K * 3, 5, 4)
    assert bank(per_expert).shape == (K * 3, 5, 2)


def test_heads_are_independent_per_member():
    head = EnsembleHead(4, 2, K)
    x = torch.randn(K * 6, 4)
    out = head(x).view(K, 6, 2)
    for m in range(K):
        torch.testing.assert_close(out[m], x.view(K, 6, 4)[m] @ head.weight[m] + head.bias[m])
    assert not torch.allclose(head.weight[0], head.weight[1])


def test_members_fold_into_the_batch_and_back():
    x = torch.arange(6.0).view(2, 3)
    folded = to_members(x, K)
    assert folded.shape == (K * 2, 3)
    torch.testing.assert_close(folded.view(K, 2, 3)[1], x)
    unfolded = from_members(folded, K)
    assert unfolded.shape == (2, K, 3)
    torch.testing.assert_close(unfolded[:, 2], x)
    assert to_members(x, 1) is x and from_members(x, 1) is x


def test_the_mean_gives_the_members_mean_probability_and_value():
    torch.manual_seed(3)
    mean = EnsembleMean(["binary", "multiclass", "regression"], [1, 4, 1]).eval()
    logits = torch.randn(10, K, 6, dtype=torch.float64) * 4
    out = mean(logits)
    assert out.shape == (10, 6)
    torch.testing.assert_close(torch.sigmoid(out[:, 0]), torch.sigmoid(logits[:, :, 0]).mean(dim=1))
    torch.testing.assert_close(
        torch.softmax(out[:, 1:5], dim=1), torch.softmax(logits[:, :, 1:5], dim=2).mean(dim=1)
    )
    torch.testing.assert_close(out[:, 5], logits[:, :, 5].mean(dim=1))
    # far in the tails the logit stays finite and the probability exact
    extreme = torch.tensor([[[60.0], [80.0], [-70.0]]], dtype=torch.float64)
    combined = EnsembleMean(["binary"], [1]).eval()(extreme)
    assert torch.isfinite(combined).all()
    assert torch.sigmoid(combined).item() == pytest.approx(2 / 3, rel=1e-12)
    # in training the members pass through, for the loss
    assert mean.train()(logits) is logits


def test_the_mean_refuses_an_unknown_loss():
    with pytest.raises(ValueError, match="one loss of"):
        EnsembleMean(["binary", "ranking"], [1, 1])
    with pytest.raises(ValueError, match="head sizes"):
        EnsembleMean(["binary"], [1, 1])


def test_the_loss_of_members_is_the_mean_of_their_losses():
    torch.manual_seed(4)
    loss = MaskedMultiTaskLoss(["binary", "multiclass", "regression"], [1, 3, 1])
    logits = torch.randn(8, K, 5)
    target = torch.stack(
        [torch.randint(0, 2, (8,)).float(), torch.randint(0, 3, (8,)).float(), torch.randn(8)],
        dim=1,
    )
    weight = torch.rand(8, 3)
    weight[:3, 0] = 0.0  # missing labels
    members = torch.stack([loss(logits[:, m], target, weight) for m in range(K)])
    torch.testing.assert_close(loss(logits, target, weight), members.mean(dim=0))
    torch.testing.assert_close(loss(logits, target), torch.stack(
        [loss(logits[:, m], target) for m in range(K)]).mean(dim=0))  # fmt: skip


ARCHITECTURES = {
    "mmoe": lambda k: MMoEModule(7, [1, 2], 3, (8,), (4,), n_ensemble=k),
    "omoe": lambda k: OMoEModule(7, [1, 2], 3, (8,), (), n_ensemble=k),
    "ple": lambda k: PLEModule(7, [1, 2], 1, 2, 2, (8,), (4,), n_ensemble=k),
    "shared_bottom": lambda k: SharedBottomModule(7, [1, 2], (8,), (4,), n_ensemble=k),
}


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_members_are_the_one_network_when_their_scalings_are_one(name):
    """With every ``r`` and ``s`` at one, each member computes the one network of the
    same shared weights, its own head's weights and bias: the member structure is
    BatchEnsemble's and nothing else."""
    torch.manual_seed(5)
    ensemble, single = ARCHITECTURES[name](K), ARCHITECTURES[name](1)
    x = torch.randn(11, 7)
    with torch.no_grad():
        for param_name, param in ensemble.named_parameters():
            if param_name.endswith(".r") or param_name.endswith(".s"):
                param.fill_(1.0)
    for m in range(K):
        _copy_member(ensemble, single, m)
        torch.testing.assert_close(ensemble(x)[:, m], single(x), rtol=1e-5, atol=1e-6)
    assert ensemble(x).shape == (11, K, 3)


def _copy_member(ensemble, single, m):
    """``single``'s parameters from member ``m`` of ``ensemble``: its layers sit at the
    same names (experts, bottom, towers' hidden layers and heads, gates)."""
    with torch.no_grad():
        for name, part in ensemble.named_modules():
            if isinstance(part, EnsembleExperts):
                target = single.get_submodule(name)  # BatchedExperts
                for i, layer in enumerate(part.layers):
                    target.weights[i].copy_(layer.weight)
                    target.biases[i].copy_(layer.bias[m])
            elif isinstance(part, EnsembleMLP):
                linears = [lin for lin in single.get_submodule(name) if isinstance(lin, nn.Linear)]
                assert len(linears) == len(part.layers)
                for layer, linear in zip(part.layers, linears):
                    linear.weight.copy_(layer.weight.T)
                    linear.bias.copy_(layer.bias[m])
            elif isinstance(part, EnsembleHead):
                linear = single.get_submodule(name)
                linear.weight.copy_(part.weight[m].T)
                linear.bias.copy_(part.bias[m])
            elif isinstance(part, SoftmaxGate):
                single.get_submodule(name).load_state_dict(part.state_dict())


def test_gate_weights_of_an_ensemble_are_distributions():
    torch.manual_seed(6)
    ple = PLEModule(7, [1, 2], 1, 2, 2, (8,), (4,), n_ensemble=K)
    for level in ple.gate_weights(torch.randn(9, 7)):
        assert level.shape == (9, 2, 4)
        torch.testing.assert_close(level.sum(dim=2), torch.ones(9, 2))
    mmoe = MMoEModule(7, [1, 2], 3, (8,), (4,), n_ensemble=K)
    assert mmoe.gate_weights(torch.randn(9, 7)).shape == (9, 2, 3)


def test_parameters_grow_by_a_fraction_not_k_times():
    """The docstring's figure: +15 % for the default MMoE on 100 inputs at 4 members."""
    one = sum(p.numel() for p in MMoEModule(100, [1] * 5, 8, (64,), (32,)).parameters())
    four = sum(
        p.numel() for p in MMoEModule(100, [1] * 5, 8, (64,), (32,), n_ensemble=4).parameters()
    )
    assert 1.14 < four / one < 1.16
