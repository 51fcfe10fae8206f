"""The MMoE-paper benchmark: stacked runs train as lone runs do, the design repeats exactly,
an interrupted run resumes to the same numbers, and the claim tests decide as they should."""

import copy
import json

import numpy as np
import pytest
import torch

from benchmarks import _stats, _synthetic_claims, _synthetic_data, synthetic
from benchmarks._stacked import build_modules, standardize, train_stacked
from sklearn_mtl.architectures import MMoE, SharedBottom
from sklearn_mtl.datasets import make_task_pair

TINY = MMoE(3, expert_units=(4,), tower_units=(3,))


def _data(n_runs, n=120, correlation=0.5):
    pairs = [
        make_task_pair(n, correlation, n_features=6, function_seed=0, random_state=s)
        for s in range(n_runs)
    ]
    return np.stack([x for x, _ in pairs]).astype(np.float32), np.stack([y for _, y in pairs])


def _lone_loop(architecture, X, Y, *, n_train, seed, lr, epochs, batch_size):
    """One run the plain way: the module itself, Adam, the same batch order."""
    X, Y = standardize(X[None], Y[None], n_train)
    X, Y = torch.as_tensor(X[0]), torch.as_tensor(Y[0])
    (module,) = build_modules(architecture, X.shape[1], Y.shape[1], [seed])
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    order = np.random.RandomState(seed)
    train, valid = [], []
    for _ in range(epochs):
        permutation = torch.as_tensor(order.permutation(n_train))
        total = 0.0
        for start in range(0, n_train, batch_size):
            rows = permutation[start : start + batch_size]
            loss = ((module(X[rows]) - Y[rows]) ** 2).mean(dim=0).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        train.append(total / n_train)
        with torch.no_grad():
            valid.append(((module(X[n_train:]) - Y[n_train:]) ** 2).mean(dim=0).sum().item())
    return np.array(train), np.array(valid)


def test_a_stacked_run_trains_as_the_lone_module_does():
    X, Y = _data(3)
    rates = [1e-2, 3e-3, 1e-2]  # two parameter groups, interleaved
    curves = train_stacked(
        TINY,
        X,
        Y,
        n_train=100,
        init_seeds=[5, 6, 7],
        shuffle_seeds=[5, 6, 7],
        learning_rates=rates,
        epochs=3,
        batch_size=32,
    )
    assert curves.train.shape == curves.valid.shape == (3, 3)
    assert curves.steps_per_epoch == 4  # 100 rows in batches of 32: the last one has 4
    for k, (seed, lr) in enumerate(zip([5, 6, 7], rates)):
        train, valid = _lone_loop(
            TINY, X[k], Y[k], n_train=100, seed=seed, lr=lr, epochs=3, batch_size=32
        )
        np.testing.assert_allclose(curves.train[k], train, rtol=1e-4)
        np.testing.assert_allclose(curves.valid[k], valid, rtol=1e-4)
    assert (curves.train[:, -1] < curves.train[:, 0]).all()  # they learn


def test_stacked_runs_do_not_depend_on_their_companions():
    X, Y = _data(3)
    common = dict(n_train=100, epochs=2, batch_size=50)
    together = train_stacked(
        TINY,
        X,
        Y,
        init_seeds=[1, 2, 3],
        shuffle_seeds=[1, 2, 3],
        learning_rates=[1e-2, 1e-3, 1e-2],
        **common,
    )
    alone = train_stacked(
        TINY, X[1:2], Y[1:2], init_seeds=[2], shuffle_seeds=[2], learning_rates=[1e-3], **common
    )
    np.testing.assert_allclose(together.valid[1], alone.valid[0], rtol=1e-5)
    with pytest.raises(ValueError, match="one entry per run"):
        train_stacked(
            TINY, X, Y, init_seeds=[1], shuffle_seeds=[1, 2, 3], learning_rates=[1e-2] * 3, **common
        )


def test_equal_width_matches_mmoe_parameter_count():
    width = synthetic.equal_width()
    count = synthetic.count_parameters
    mmoe = count(synthetic.ARCHITECTURES["MMoE"](), 100, 2)
    sb = count(SharedBottom(bottom_units=(width,), tower_units=(8,)), 100, 2)
    neighbour = count(SharedBottom(bottom_units=(width + 1,), tower_units=(8,)), 100, 2)
    assert abs(sb - mmoe) <= abs(neighbour - mmoe) and abs(sb - mmoe) / mmoe < 0.01


TINY_RUN = [
    "--runs",
    "6",
    "--n-samples",
    "330",
    "--epochs",
    "2",
    "--batch-size",
    "64",
    "--correlations",
    "1.0",
    "0.5",
    "--models",
    "Shared-Bottom (113)",
    "OMoE",
    "MMoE",
    "--sweep-correlations",
    "1.0",
    "0.5",
    "--sweep-models",
    synthetic.EQUAL,
    "MMoE",
    "--lr-runs",
    "1",
    "--learning-rates",
    "1e-3",
    "1e-2",
    "--stack-size",
    "4",
]


def _results(report):
    return {(r["model"], r["correlation"]): r["readings"] for r in report["results"]}


@pytest.mark.benchmarks
def test_benchmark_repeats_exactly_across_processes_and_resumes_after_a_kill(tmp_path):
    first = synthetic.main([*TINY_RUN, "--jobs", "1", "--output", str(tmp_path / "a.json")])
    assert not (tmp_path / "a.partial.jsonl").exists()  # removed once the report is written
    assert {r["steps_per_epoch"] for r in first["results"]} == {5}  # 300 rows / 64: no valid
    assert first["environment"]["torch_threads_per_process"] == 1
    assert first["environment"]["torch"] == torch.__version__
    assert set(first["claims"]) == set(_synthetic_claims.READINGS)
    # two worker processes give the same numbers as one
    second = synthetic.main(
        [*TINY_RUN, "--jobs", "2", "--no-figures", "--output", str(tmp_path / "b.json")]
    )
    assert not list(tmp_path.glob("b*.png"))
    assert _results(second) == _results(first)
    assert second["learning_rates_chosen"] == first["learning_rates_chosen"]
    # a run killed after two stacks, its last line half written, resumes to the same numbers
    args = synthetic.parse_args([*TINY_RUN, "--output", str(tmp_path / "c.json")])
    settings = {**synthetic.settings_of(args), "code_revision": synthetic.code_revision()}
    checkpoint = tmp_path / "c.partial.jsonl"
    lr_stacks = synthetic.stacks(args, "lr")
    lines = [
        json.dumps({**synthetic.train_stack(s, args), "settings": settings}) for s in lr_stacks[:2]
    ]
    cut = lines[-1][:40]
    checkpoint.write_text("\n".join(lines) + "\n" + cut)
    resumed = synthetic.run(args, checkpoint)
    assert _results(resumed) == _results(first)
    # every stack's record is readable afterwards: the cut line did not swallow the next one
    records = [json.loads(line) for line in checkpoint.read_text().splitlines() if line != cut]
    planned = lr_stacks + synthetic.stacks(
        args,
        "main",
        {(e["model"], e["correlation"]): e["lr"] for e in first["learning_rates_chosen"]},
    )
    assert {(r["phase"], r["model"], r["index"]) for r in records} == {
        (s["phase"], s["model"], s["index"]) for s in planned
    }
    # a stored stack whose curves are short (or whose runs differ) is trained again
    broken = json.loads(lines[0])
    broken["valid"] = [run[:1] for run in broken["valid"]]
    checkpoint.write_text(json.dumps(broken) + "\n")
    again = synthetic.run(args, checkpoint)
    assert _results(again) == _results(first)
    # a checkpoint from other settings is not resumed
    # (another epoch count, or another code revision), though its curves look complete
    stale = []
    for changed in ({"epochs": 3}, {"code_revision": "0123456789ab"}):
        record = json.loads(lines[0])
        record["settings"] = {**settings, **changed}
        record["valid"] = [[9.0] * 2 for _ in record["valid"]]
        stale.append(json.dumps(record))
    (tmp_path / "d.partial.jsonl").write_text("\n".join(stale) + "\n")
    # (and rows drawn in two processes, kept for the next model, are the same rows)
    fresh = synthetic.main(
        [*TINY_RUN, "--jobs", "1", "--data-jobs", "2", "--no-figures",
         "--output", str(tmp_path / "d.json")]
    )  # fmt: skip
    assert _results(fresh) == _results(first)
    # --verify reruns stored stacks and finds them equal
    verified = synthetic.main([*TINY_RUN, "--output", str(tmp_path / "a.json"), "--verify", "2"])
    assert verified["largest_relative_difference"] < 1e-6
    # the figures and the table are written; --rereport redoes them from the JSON alone
    for suffix in ("-curves.png", "-curves-by-model.png", "-trainability.png", "-sweep.png"):
        assert (tmp_path / f"a{suffix}").stat().st_size > 0
    table = (tmp_path / "a.md").read_text()
    assert "| (a) every model does better at higher correlation |" in table
    (tmp_path / "a.md").unlink()
    again = synthetic.main([*TINY_RUN, "--output", str(tmp_path / "a.json"), "--rereport"])
    assert (tmp_path / "a.md").read_text() == table and again["results"] == first["results"]


def test_bad_sizes_are_refused_by_name():
    for option, value in [("--stack-size", "-1"), ("--lr-runs", "-2"), ("--runs", "0")]:
        with pytest.raises(SystemExit):
            synthetic.parse_args([option, value])


def test_runs_pair_across_models_and_correlations():
    args = synthetic.parse_args(TINY_RUN)
    lrs = synthetic.choose_learning_rates([], argparse_namespace(args, learning_rates=[1e-2]))
    stacks = synthetic.stacks(args, "main", lrs)
    # every (model, correlation) has runs 0..runs-1, and no run twice
    seen = {}
    for stack in stacks:
        assert len(stack["runs"]) <= 4
        for c, _, r in stack["runs"]:
            seen.setdefault((stack["model"], c), []).append(r)
    assert all(sorted(v) == list(range(6)) for v in seen.values())
    # run r has the same rows at every correlation and for every model
    X1, _ = _synthetic_data.sample(1.0, synthetic.SAMPLE_SEED + 3, args)
    X2, _ = _synthetic_data.sample(0.5, synthetic.SAMPLE_SEED + 3, args)
    np.testing.assert_array_equal(X1, X2)


def argparse_namespace(args, **changes):
    new = copy.copy(args)
    for key, value in changes.items():
        setattr(new, key, value)
    return new


def _claims_of(readings_by_cell, correlations=(1.0, 0.5), sweep=()):
    results = [
        {"model": m, "correlation": c, "readings": {k: list(v) for k in _synthetic_claims.READINGS}}
        for (m, c), v in readings_by_cell.items()
    ]
    args = synthetic.parse_args(["--correlations", *map(str, correlations)])
    return synthetic.claims(results, args)


def test_claims_hold_on_data_made_to_hold_them_and_fail_otherwise():
    rng = np.random.default_rng(0)
    base = rng.uniform(1.0, 2.0, 30)
    made = {  # lower at higher correlation; MMoE flat; MoE below Shared-Bottom, which spreads
        ("Shared-Bottom (113)", 1.0): base * 2 + rng.normal(0, 0.5, 30) ** 2,
        ("Shared-Bottom (113)", 0.5): base * 3 + rng.normal(0, 0.5, 30) ** 2 + 1,
        ("OMoE", 1.0): base,
        ("OMoE", 0.5): base * 1.6,
        ("MMoE", 1.0): base,
        ("MMoE", 0.5): base * 1.05,
    }
    verdicts = {name: claim["verdict"] for name, claim in _claims_of(made)["final_valid"].items()}
    assert verdicts == {"a": "holds", "b": "holds", "c": "holds", "d": "holds"}
    swapped = {(m, c): made[m, 1.5 - c] for m, c in made}  # worse at higher correlation
    assert _claims_of(swapped)["final_valid"]["a"]["verdict"] == "does not hold"
    few = {key: value[:3] for key, value in made.items()}
    assert _claims_of(few)["final_valid"]["a"]["verdict"] == "too few runs"


def test_holm_adjusts_as_defined():
    # p sorted: 0.01, 0.02, 0.04 -> 3 * 0.01, max(0.03, 2 * 0.02), max(0.04, 0.04)
    assert _stats.holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert _stats.holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
