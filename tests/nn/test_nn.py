"""The torch modules: shapes, equivalences and what makes each architecture itself."""

import pytest
import torch
from torch import nn

from sklearn_mtl.nn import (
    MLP,
    BatchedExperts,
    CrossStitchModule,
    ESMMModule,
    MMoEModule,
    OMoEModule,
    PLEModule,
    SharedBottomModule,
    SoftmaxGate,
    TaskTowers,
    make_activation,
    stitch_matrix,
)


def test_mlp_shapes_and_identity():
    assert MLP(5, (8, 3))(torch.randn(4, 5)).shape == (4, 3)
    x = torch.randn(4, 5)
    assert torch.equal(MLP(5, ())(x), x)


def test_unknown_activation_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Unknown activation 'swish'; expected one of"):
        make_activation("swish")


def test_batched_experts_equal_separate_mlps():
    torch.manual_seed(0)
    experts = BatchedExperts(6, (5, 4), n_experts=3, activation="tanh")
    x = torch.randn(7, 6)
    out = experts(x)
    assert out.shape == (7, 3, 4)
    for e in range(3):
        h = x
        for weight, bias in zip(experts.weights, experts.biases):
            h = torch.tanh(h @ weight[e] + bias[e])
        torch.testing.assert_close(out[:, e], h)


def test_batched_experts_init_matches_linear_bounds():
    experts = BatchedExperts(100, (50,), n_experts=4)
    assert experts.weights[0].abs().max() <= 0.1 and experts.biases[0].abs().max() <= 0.1


def test_gate_rows_are_distributions_and_temperature_flattens_them():
    torch.manual_seed(0)
    gate = SoftmaxGate(5, n_experts=4, n_gates=3)
    x = torch.randn(10, 5) * 5
    weights = gate(x)
    assert weights.shape == (10, 3, 4)
    torch.testing.assert_close(weights.sum(-1), torch.ones(10, 3))
    gate.temperature = 100.0
    assert gate(x).std() < weights.std()
    with pytest.raises(ValueError, match="temperature must be positive"):
        SoftmaxGate(5, 4, temperature=0.0)


def test_towers_concatenate_heads_of_different_sizes():
    towers = TaskTowers(6, (4,), head_sizes=(1, 3, 1))
    assert towers(torch.randn(5, 6)).shape == (5, 5)  # shared representation
    assert towers(torch.randn(5, 3, 6)).shape == (5, 5)  # one per task


@pytest.mark.parametrize("architecture", ["shared_bottom", "omoe", "mmoe"])
def test_architectures_map_inputs_to_concatenated_logits(architecture):
    build = {
        "shared_bottom": lambda: SharedBottomModule(10, (1, 4), (16,), (8,)),
        "omoe": lambda: OMoEModule(10, (1, 4), 3, (16,), (8,)),
        "mmoe": lambda: MMoEModule(10, (1, 4), 3, (16,), (8,)),
    }[architecture]
    out = build()(torch.randn(6, 10))
    assert out.shape == (6, 5) and out.dtype == torch.float32


def test_mmoe_has_one_gate_per_task_and_omoe_one_in_all():
    assert MMoEModule(10, (1, 1, 1), 4, (8,), ()).gate.n_gates == 3
    assert OMoEModule(10, (1, 1, 1), 4, (8,), ()).gate.n_gates == 1


def test_omoe_towers_all_read_the_same_mixture():
    torch.manual_seed(0)
    model = OMoEModule(6, (1, 1), 3, (8,), ())
    # Identical linear heads give identical outputs only if the towers' inputs agree.
    model.towers.towers[1].load_state_dict(model.towers.towers[0].state_dict())
    out = model(torch.randn(5, 6))
    torch.testing.assert_close(out[:, 0], out[:, 1])
    mmoe = MMoEModule(6, (1, 1), 3, (8,), ())
    mmoe.towers.towers[1].load_state_dict(mmoe.towers.towers[0].state_dict())
    out = mmoe(torch.randn(5, 6))
    assert not torch.allclose(out[:, 0], out[:, 1])  # separate gates, separate mixtures


def test_mmoe_with_one_expert_is_a_shared_bottom():
    """With one expert every gate weight is 1: MMoE reduces to Shared-Bottom."""
    torch.manual_seed(0)
    mmoe = MMoEModule(6, (1, 1), 1, (8,), (4,))
    bottom = SharedBottomModule(6, (1, 1), (8,), (4,))
    with torch.no_grad():
        linear = bottom.bottom[0]
        linear.weight.copy_(mmoe.experts.weights[0][0].T)
        linear.bias.copy_(mmoe.experts.biases[0][0])
    bottom.towers.load_state_dict(mmoe.towers.state_dict())
    x = torch.randn(9, 6)
    torch.testing.assert_close(mmoe(x), bottom(x))


def test_modules_return_logits_not_probabilities():
    torch.manual_seed(0)
    model = MMoEModule(4, (1,), 2, (8,), ())
    with torch.no_grad():
        model.towers.towers[0][-1].bias.fill_(10.0)
    assert (model(torch.randn(3, 4)) > 1).all()
    assert not any(isinstance(m, (nn.Sigmoid, nn.Softmax)) for m in model.modules())


def _perturb_(parameters):
    with torch.no_grad():
        for parameter in parameters:
            parameter.add_(torch.randn_like(parameter))


def test_ple_without_shared_experts_has_no_cross_task_path():
    torch.manual_seed(0)
    model = PLEModule(6, (1, 1), n_task_experts=2, n_shared_experts=0, n_levels=1,
                expert_units=(8,), tower_units=(4,))  # fmt: skip
    x = torch.randn(10, 6)
    before = model(x)
    level = model.levels[0]
    # Task 1's experts are 2 and 3 of the bank; its gate is row 1; its tower is towers[1].
    with torch.no_grad():
        for weight, bias in zip(level.experts.weights, level.experts.biases):
            weight[2:].add_(1.0)
            bias[2:].add_(1.0)
        level.task_gates.linear.weight.view(2, 2, 6)[1].add_(1.0)
    _perturb_(model.towers.towers[1].parameters())
    after = model(x)
    torch.testing.assert_close(after[:, 0], before[:, 0])
    assert not torch.allclose(after[:, 1], before[:, 1])


def test_ple_gates_reach_own_and_shared_experts_only():
    torch.manual_seed(0)
    model = PLEModule(5, (1, 2, 1), n_task_experts=2, n_shared_experts=1, n_levels=3,
                expert_units=(8,), tower_units=())  # fmt: skip
    gates = model.gate_weights(torch.randn(4, 5))
    assert len(gates) == 3
    for level in gates:
        assert level.shape == (4, 3, 7)  # 3 tasks x 2 own experts + 1 shared
        torch.testing.assert_close(level.sum(-1), torch.ones(4, 3))
        for task in range(3):
            reachable = [2 * task, 2 * task + 1, 6]
            others = [e for e in range(7) if e not in reachable]
            assert torch.all(level[:, task, others] == 0)
            assert torch.all(level[:, task, reachable] > 0)
    assert model.levels[0].shared_gate is not None and model.levels[-1].shared_gate is None


def test_cross_stitch_with_identity_stitches_is_independent_networks():
    torch.manual_seed(0)
    model = CrossStitchModule(6, (1, 1), column_units=(8, 5), tower_units=(4,), stitch_init=1.0)
    torch.testing.assert_close(model.stitches[0], torch.eye(2))
    x = torch.randn(10, 6)
    out = model(x)
    for task in range(2):  # the same task network written out by hand
        h = x
        for layer in model.layers:
            h = torch.relu(h @ layer.weights[0][task] + layer.biases[0][task])
        torch.testing.assert_close(out[:, task], model.towers.towers[task](h)[:, 0])
    with torch.no_grad():  # change column 1 only: task 0 does not see it
        for layer in model.layers:
            layer.weights[0][1].add_(1.0)
    after = model(x)
    torch.testing.assert_close(after[:, 0], out[:, 0])
    assert not torch.allclose(after[:, 1], out[:, 1])


def test_cross_stitch_init_rows_sum_to_one():
    matrix = stitch_matrix(3, 0.8)
    torch.testing.assert_close(matrix.sum(dim=1), torch.ones(3))
    assert matrix[0, 0] == pytest.approx(0.8) and matrix[0, 1] == pytest.approx(0.1)
    assert torch.equal(stitch_matrix(1, 0.8), torch.ones(1, 1))


def test_esmm_ctcvr_is_the_product_and_never_exceeds_ctr():
    torch.manual_seed(0)
    model = ESMMModule(6, bottom_units=(8,), tower_units=(4,))
    x = torch.randn(200, 6) * 3
    logits = model(x)
    p_ctr, p_cvr = torch.sigmoid(model.ctr_cvr_logits(x)).unbind(dim=1)
    p_ctcvr = torch.sigmoid(logits[:, 1])
    torch.testing.assert_close(torch.sigmoid(logits[:, 0]), p_ctr)
    torch.testing.assert_close(p_ctcvr, p_ctr * p_cvr, rtol=1e-5, atol=1e-7)
    assert torch.all(p_ctcvr <= p_ctr + 1e-7)


def test_gates_take_one_input_per_gate():
    torch.manual_seed(0)
    gate = SoftmaxGate(4, n_experts=3, n_gates=2)
    x = torch.randn(5, 4)
    shared = gate(x)
    per_gate = gate(torch.stack([x, x], dim=1))
    torch.testing.assert_close(per_gate, shared)


@pytest.mark.parametrize(
    "old", ["SharedBottom", "MMoE", "OMoE", "PLE", "CrossStitch", "ESMM", "AdaptiveSharing"]
)
def test_the_names_of_0_1_remain_aliases_of_the_modules(old):
    import importlib

    import sklearn_mtl.nn

    module = getattr(sklearn_mtl.nn, old + "Module")
    assert getattr(sklearn_mtl.nn, old) is module
    # a pickle of 0.1 names the class in its defining module
    assert getattr(importlib.import_module(module.__module__), old) is module
    assert old not in sklearn_mtl.nn.__all__
