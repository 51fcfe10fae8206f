"""The layout of the package: layers a reader can name, one way through them (issue 30).

The import graph is read from the source, as ``python ../shared/tools/import_cycles.py``
reads it: every import counts, at module level or inside a function (a lazy import hides
a dependency, it does not remove it), except under ``if TYPE_CHECKING:``.
"""

import ast
import importlib
import re
from importlib.metadata import version
from pathlib import Path

import pytest
import tomllib

import sklearn_mtl

PACKAGE = Path(sklearn_mtl.__file__).parent
ROOT = PACKAGE.parent
MAX_LINES = 400
MAX_ROOT_MODULES = 12

LAYERS = [
    # (layer, the modules of sklearn_mtl in it, by their dotted name below the package), lowest
    # first: a module may import from its own layer and the layers below it, never from one
    # above. A name stands for the module and everything under it; the longest match counts.
    ("helpers", {"utils", "_task_encoders"}),
    ("torch building blocks", {"nn", "losses", "metrics", "weighting", "inspection"}),
    ("task relations", {"tasks"}),
    ("training engine", {"_training"}),
    ("estimators", {"estimators", "linear", "weak"}),
    (
        "public modules",
        {"architectures", "base", "persistence", "export", "stream", "parallel", "datasets"}
        | {"utils.estimator_checks"},
    ),
    ("package", {"", "__main__"}),
]


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_of(path): path for path in PACKAGE.rglob("*.py")}


def _resolve(name: str) -> str | None:
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> set[str]:
    """The package's modules that ``module`` imports, lazily or not."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def type_checking_only(node):
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                return True
        return False

    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module if path.name == "__init__.py" else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            targets = [
                f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source
                for a in node.names
            ]
        else:
            continue
        if type_checking_only(node):
            continue
        for target in targets:
            if target.split(".")[0] == "sklearn_mtl":
                resolved = _resolve(target)
                if resolved is not None and resolved != module:
                    found.add(resolved)
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def _circles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return circles


def _layer(module: str) -> int:
    below = module.removeprefix("sklearn_mtl").removeprefix(".")
    matches = [
        (len(name), rank)
        for rank, (_, names) in enumerate(LAYERS)
        for name in names
        if below == name or (name and below.startswith(name + "."))
    ]
    assert matches, f"{module} is in no layer of LAYERS: place it"
    return max(matches)[1]


def test_the_import_graph_has_no_circle():
    assert len(GRAPH) > 50 and sum(map(len, GRAPH.values())) > 100, "the graph is not read"
    assert _circles(GRAPH) == []


def test_the_circle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [["a", "b", "c"]]


def test_no_module_imports_from_a_layer_above_its_own():
    upward = sorted(
        f"{module} ({LAYERS[_layer(module)][0]}) imports {target} ({LAYERS[_layer(target)][0]})"
        for module, targets in GRAPH.items()
        for target in targets
        if _layer(target) > _layer(module)
    )
    assert upward == []


def test_the_engine_never_imports_an_estimator():
    engine = [m for m in GRAPH if m.startswith("sklearn_mtl._training")]
    assert engine
    reached = {t for m in engine for t in GRAPH[m]}
    assert not {
        t for t in reached if t.startswith(("sklearn_mtl.estimators", "sklearn_mtl.persistence"))
    }


def test_the_package_root_holds_few_modules():
    root_modules = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(root_modules) <= MAX_ROOT_MODULES, root_modules


@pytest.mark.parametrize("folder", ["sklearn_mtl", "benchmarks"])
def test_no_file_is_over_the_line_limit(folder):
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / folder).rglob("*.py")
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


OWN_ENDINGS = {"synthetic", "demo", "gpu_check", "__main__", "revisions"}
"""Benchmark scripts whose ``main`` does more than parse, run and report (resume and verify,
the demo's two runs, the GPU check's tests, the command line, the comparison of revisions)."""


def test_the_benchmarks_share_their_environment_record_and_their_ending():
    scripts = {p.stem: p.read_text() for p in (ROOT / "benchmarks").glob("*.py")}
    by_hand = sorted(name for name, text in scripts.items()
                     if "platform." in text and name != "_environment")  # fmt: skip
    assert by_hand == [], "build the environment record with benchmarks._environment"
    endings = sorted(
        name for name, text in scripts.items()
        if "def main(" in text and name not in OWN_ENDINGS and "benchmark_main(" not in text
    )  # fmt: skip
    assert endings == [], "end main() with benchmarks._report.benchmark_main"
    statistics = sorted(name for name, text in scripts.items()
                        if "def holm(" in text and name != "_stats")  # fmt: skip
    assert statistics == []


def _public_modules():
    for module in sorted(MODULES):
        if any(part.startswith("_") for part in module.split(".")[1:]):
            continue
        if module == "sklearn_mtl":
            continue
        yield module


@pytest.mark.parametrize("module", list(_public_modules()))
def test_every_public_module_declares_all(module):
    imported = importlib.import_module(module)
    assert hasattr(imported, "__all__"), f"{module} has no __all__ (or make it private)"
    missing = [name for name in imported.__all__ if not hasattr(imported, name)]
    assert missing == []
    defined_here = [
        name
        for name, value in vars(imported).items()
        if not name.startswith("_")
        and getattr(value, "__module__", None) == module
        and getattr(value, "__name__", None) == name  # an alias of 0.1 is not exported
        and isinstance(value, type | type(test_the_package_root_holds_few_modules))
    ]
    assert sorted(set(defined_here) - set(imported.__all__)) == []


def test_the_version_has_one_source():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert sklearn_mtl.__version__ == version("sklearn-mtl") == declared
    assert not re.search(r"__version__\s*=\s*['\"]\d", (PACKAGE / "__init__.py").read_text())


def test_the_changelog_starts_with_this_release():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "Keep a Changelog" in changelog and "## [Unreleased]" in changelog
    assert f"## [{sklearn_mtl.__version__}]" in changelog
    assert (PACKAGE / "py.typed").is_file()


def test_the_readme_layout_names_only_files_that_exist():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Layout") :]
    block = section[section.index("```") + 3 :]
    block = block[: block.index("```")]
    named = set(re.findall(r"\b(\w+\.py)\b", block))
    existing = {path.name for folder in ("sklearn_mtl", "benchmarks", "tests")
                for path in (ROOT / folder).rglob("*.py")}  # fmt: skip
    assert len(named) > 30, "the layout block is not read"
    assert sorted(named - existing) == []


NET_WORDS = [
    # (how a class name ends, the layer whose classes alone may end so)
    ("NeuralNet", "sklearn_mtl._training"),  # skorch's NeuralNet and its subclasses
    ("Net", "sklearn_mtl.estimators"),  # the estimators: MultiTaskNet, BaseMultiTaskNet
    ("Module", "sklearn_mtl.nn"),  # torch modules: MultiTaskModule, MMoEModule
]


def _class_names():
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                yield module, node.name


def test_one_word_per_layer_for_net():
    misplaced = []
    for module, name in _class_names():
        for ending, layer in NET_WORDS:
            if name.endswith(ending):
                if not (module == layer or module.startswith(layer + ".")):
                    misplaced.append(f"{module}.{name} ends in {ending!r}, the word of {layer}")
                break
    assert misplaced == []
    found = {name for _, name in _class_names()}
    assert {"MultiTaskNeuralNet", "MultiTaskNet", "MMoEModule"} <= found, "the classes are not read"


def test_the_modules_and_the_parameter_objects_have_distinct_names():
    from sklearn_mtl import architectures, nn

    assert set(nn.__all__).isdisjoint(architectures.__all__)
    architecture_modules = {
        getattr(architectures, name).module for name in architectures.__all__
        if name not in ("ARCHITECTURES", "Architecture")
    }  # fmt: skip
    assert len(architecture_modules) >= 7, "the architectures are not read"
    assert all(issubclass(module, nn.MultiTaskModule) for module in architecture_modules)
    assert all(module.__name__.endswith("Module") for module in architecture_modules)


def _weighting_mentions(source: str, names: set[str], classes: set[str]) -> list[str]:
    """Where code names a weighting: a string that is its name, or its class's name.

    The default of a ``loss_weighting`` parameter (a signature's literal, as scikit-learn
    requires) is not a mention.
    """
    tree = ast.parse(source)
    defaults = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args
            pairs = list(zip(arguments.args[::-1], arguments.defaults[::-1]))
            pairs += list(zip(arguments.kwonlyargs, arguments.kw_defaults))
            defaults |= {id(default) for arg, default in pairs if arg.arg == "loss_weighting"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in names and id(node) not in defaults:
            found.append(f"line {node.lineno}: {node.value!r}")
        elif isinstance(node, ast.Name) and node.id in classes:
            found.append(f"line {node.lineno}: {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in classes:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.alias) and node.name in classes:
            found.append(f"line {node.lineno}: import {node.name}")
    return found


def test_nothing_outside_weighting_names_a_weighting():
    """A method is known by its class attributes; the docs list the registry (part 5)."""
    from sklearn_mtl.weighting import WEIGHTINGS

    names, classes = set(WEIGHTINGS), {cls.__name__ for cls in WEIGHTINGS.values()}
    assert {"pcgrad", "equal"} <= names and "PCGrad" in classes
    mentions = {
        module: found
        for module, path in MODULES.items()
        if not module.startswith("sklearn_mtl.weighting")
        and (found := _weighting_mentions(path.read_text(), names, classes))
    }
    assert mentions == {}
    planted = "def f(loss_weighting='equal'):\n    return 'pcgrad', weighting.PCGrad, 'equal'\n"
    assert _weighting_mentions(planted, names, classes) == [
        "line 2: 'pcgrad'", "line 2: .PCGrad", "line 2: 'equal'",
    ]  # fmt: skip


TESTS = ROOT / "tests"
TEST_FOLDERS = {
    # folder of tests/: the modules whose private names its tests may import. A name stands
    # for the module and everything under it; the root folder tests the root modules.
    "": {"sklearn_mtl._task_encoders", "sklearn_mtl.losses", "sklearn_mtl.metrics",
         "sklearn_mtl.inspection", "sklearn_mtl.export", "sklearn_mtl.stream",
         "sklearn_mtl.parallel", "sklearn_mtl.architectures", "sklearn_mtl.base"},
    "utils": {"sklearn_mtl.utils"},
    "nn": {"sklearn_mtl.nn"},
    "weighting": {"sklearn_mtl.weighting"},
    "tasks": {"sklearn_mtl.tasks"},
    "training": {"sklearn_mtl._training"},
    "estimators": {"sklearn_mtl.estimators"},
    "linear": {"sklearn_mtl.linear"},
    "weak": {"sklearn_mtl.weak"},
    "persistence": {"sklearn_mtl.persistence"},
    "datasets": {"sklearn_mtl.datasets"},
    "benchmarks": set(),
}  # fmt: skip
TEST_HELPERS = {"_settings", "_callbacks", "_model_files", "_cost", "_internals", "conftest"}
"""The documented helpers (tests/__init__.py); only _internals imports private names."""


def _is_private(dotted: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split(".")[1:])


def _test_import_problems(source: str, folder: str, name: str) -> list[str]:
    """What a test file at ``tests/<folder>/<name>.py`` imports that it should not."""
    owned = TEST_FOLDERS[folder]
    package = "tests" + (f".{folder}" if folder else "")
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative to the file's package
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))  # fmt: skip
            imported = [(base, alias.name) for alias in node.names]
        else:
            continue
        for module, member in imported:
            if module == "sklearn_mtl" or module.startswith("sklearn_mtl."):
                dotted = module + (f".{member}" if member else "")
                if not _is_private(dotted) or name == "_internals":
                    continue
                if not any(module == own or module.startswith(own + ".") for own in owned):
                    problems.append(f"imports the private {dotted}")
            elif module == "tests" or module.startswith("tests."):
                names_a_module = member and (member.startswith("test_") or member in TEST_HELPERS)
                target = f"{module}.{member}" if names_a_module else module
                last = target.rpartition(".")[2]
                own_script = target.rpartition(".")[0] == package and not last.startswith("test_")
                if last not in TEST_HELPERS and not own_script and target != "tests":
                    problems.append(f"imports {target}, a test module, not a helper")
    return problems


def test_tests_follow_the_layout_and_import_privates_only_of_their_layer():
    found, problems = 0, []
    for path in sorted(TESTS.rglob("*.py")):
        relative = path.relative_to(TESTS)
        if relative.parts[0] in {"persistence"} and "data" in relative.parts:
            continue  # the scripts that made the files of earlier versions, run at those versions
        folder = relative.parts[0] if len(relative.parts) > 1 else ""
        if folder not in TEST_FOLDERS or len(relative.parts) > 2:
            problems.append(f"{relative} is in no folder of TEST_FOLDERS")
            continue
        if folder:
            assert (TESTS / folder / "__init__.py").is_file(), folder
        problems += [f"{relative} {p}" for p in _test_import_problems(
            path.read_text(), folder, path.stem)]  # fmt: skip
        found += path.stem.startswith("test_")
    assert found > 40, "the test files are not read"
    assert problems == []


def test_the_test_import_check_finds_what_it_must():
    source = (
        "from sklearn_mtl._training.options import TRAINING_CONSTRAINTS\n"
        "from sklearn_mtl.estimators import _prediction\n"
        "import sklearn_mtl.persistence._checks\n"
        "from tests.training.test_resume import data\n"
        "from ..persistence import test_persistence\n"
        "from sklearn_mtl.nn.numeric import PERIODIC_SIGMA\n"  # public
        "from tests._settings import FAST\n"  # a helper
        "from .distributed_fit import fit\n"  # a script of its own folder
    )
    assert _test_import_problems(source, "estimators", "test_x") == [
        "imports the private sklearn_mtl._training.options.TRAINING_CONSTRAINTS",
        "imports the private sklearn_mtl.persistence._checks",
        "imports tests.training.test_resume, a test module, not a helper",
        "imports tests.persistence.test_persistence, a test module, not a helper",
    ]
    assert _test_import_problems(source, "training", "test_x") == [
        "imports the private sklearn_mtl.estimators._prediction",
        "imports the private sklearn_mtl.persistence._checks",
        "imports tests.training.test_resume, a test module, not a helper",
        "imports tests.persistence.test_persistence, a test module, not a helper",
    ]
