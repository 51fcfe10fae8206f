"""The torch modules: shapes, equivalences and what makes each architecture itself."""

import pytest
import torch
from torch import nn

from sklearn_mtl.nn import (
    MLP,
    BatchedExperts,
    MMoE,
    OMoE,
    SharedBottom,
    SoftmaxGate,
    TaskTowers,
    make_activation,
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
        "shared_bottom": lambda: SharedBottom(10, (1, 4), (16,), (8,)),
        "omoe": lambda: OMoE(10, (1, 4), 3, (16,), (8,)),
        "mmoe": lambda: MMoE(10, (1, 4), 3, (16,), (8,)),
    }[architecture]
    out = build()(torch.randn(6, 10))
    assert out.shape == (6, 5) and out.dtype == torch.float32


def test_mmoe_has_one_gate_per_task_and_omoe_one_in_all():
    assert MMoE(10, (1, 1, 1), 4, (8,), ()).gate.n_gates == 3
    assert OMoE(10, (1, 1, 1), 4, (8,), ()).gate.n_gates == 1


def test_omoe_towers_all_read_the_same_mixture():
    torch.manual_seed(0)
    model = OMoE(6, (1, 1), 3, (8,), ())
    # Identical linear heads give identical outputs only if the towers' inputs agree.
    model.towers.towers[1].load_state_dict(model.towers.towers[0].state_dict())
    out = model(torch.randn(5, 6))
    torch.testing.assert_close(out[:, 0], out[:, 1])
    mmoe = MMoE(6, (1, 1), 3, (8,), ())
    mmoe.towers.towers[1].load_state_dict(mmoe.towers.towers[0].state_dict())
    out = mmoe(torch.randn(5, 6))
    assert not torch.allclose(out[:, 0], out[:, 1])  # separate gates, separate mixtures


def test_mmoe_with_one_expert_is_a_shared_bottom():
    """With one expert every gate weight is 1: MMoE reduces to Shared-Bottom."""
    torch.manual_seed(0)
    mmoe = MMoE(6, (1, 1), 1, (8,), (4,))
    bottom = SharedBottom(6, (1, 1), (8,), (4,))
    with torch.no_grad():
        linear = bottom.bottom[0]
        linear.weight.copy_(mmoe.experts.weights[0][0].T)
        linear.bias.copy_(mmoe.experts.biases[0][0])
    bottom.towers.load_state_dict(mmoe.towers.state_dict())
    x = torch.randn(9, 6)
    torch.testing.assert_close(mmoe(x), bottom(x))


def test_modules_return_logits_not_probabilities():
    torch.manual_seed(0)
    model = MMoE(4, (1,), 2, (8,), ())
    with torch.no_grad():
        model.towers.towers[0][-1].bias.fill_(10.0)
    assert (model(torch.randn(3, 4)) > 1).all()
    assert not any(isinstance(m, (nn.Sigmoid, nn.Softmax)) for m in model.modules())
