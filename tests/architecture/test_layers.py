"""The import direction of the apps (docs/architecture.md, «Layers»), checked on every run.

The contract is `.importlinter` at the project root (import-linter, the same check as
`lint-imports`). These tests run it, prove it would refuse each back edge the code once
had, and keep every module free of import cycles, function-level imports included.
"""

import copy
from pathlib import Path

import grimp
import pytest
from importlinter.application.use_cases import read_user_options
from importlinter.configuration import configure
from importlinter.contracts.layers import LayersContract

ROOT = Path(__file__).resolve().parents[2]

configure()


@pytest.fixture(scope="module")
def contract() -> LayersContract:
    options = read_user_options(config_filename=str(ROOT / ".importlinter"))
    (contract_options,) = options.contracts_options
    return LayersContract(
        name=str(contract_options["name"]),
        session_options=options.session_options,
        contract_options=contract_options,
    )


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("portal", exclude_type_checking_imports=True)


def _layers(contract: LayersContract) -> list[str]:
    return [str(layer) for layer in contract.contract_options["layers"]]


def test_the_apps_import_only_downward(contract, graph):
    check = contract.check(copy.deepcopy(graph), verbose=False)
    assert check.kept, check.metadata


# Edges the code had before the layering (issue «House»): each must stay forbidden.
FORMER_BACK_EDGES = [
    ("portal.scheduling.rules", "portal.workspace.permissions"),
    ("portal.scheduling.services", "portal.workspace.permissions"),
    ("portal.patients.guardianships", "portal.workspace.permissions"),
    ("portal.release.selectors", "portal.workspace.permissions"),
    ("portal.scheduling.services", "portal.waitlist.services"),
    ("portal.scheduling.services", "portal.notifications.services"),
    ("portal.scheduling.views", "portal.waitlist.selectors"),
    ("portal.audit.journal", "portal.patients.selectors"),
    ("portal.audit.journal", "portal.scheduling.models"),
    ("portal.audit.selectors", "portal.patients.selectors"),
    ("portal.core.ratelimits", "portal.audit.models"),
    ("portal.patients.selectors", "portal.scheduling.rules"),
    ("portal.patients.selectors", "portal.scheduling.errors"),
    ("portal.notifications.services", "portal.waitlist.services"),
]


@pytest.mark.parametrize(("importer", "imported"), FORMER_BACK_EDGES)
def test_a_former_back_edge_would_break_the_contract(contract, graph, importer, imported):
    with_edge = copy.deepcopy(graph)
    with_edge.add_import(importer=importer, imported=imported, line_number=1, line_contents="")
    assert not contract.check(with_edge, verbose=False).kept


def test_the_contract_names_every_app(contract):
    """A new app must be placed in a layer, or the contract would not see its imports."""
    named = {name.strip() for layer in _layers(contract) for name in layer.strip("()").split("|")}
    apps = {f"portal.{path.parent.name}" for path in (ROOT / "portal").glob("*/apps.py")}
    assert apps <= named, sorted(apps - named)


def _cycles(graph: grimp.ImportGraph) -> set[tuple[str, str]]:
    """Pairs of modules that import each other, directly or through others."""
    cycles = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("portal.") and graph.find_shortest_chain(
                importer=imported, imported=module
            ):
                cycles.add((min(module, imported), max(module, imported)))
    return cycles


def test_no_module_imports_itself_through_others(graph):
    """No import cycle between modules, within an app too: a cycle hides in a
    function-level import and breaks at start-up the day someone moves it to the top."""
    assert not _cycles(graph), sorted(_cycles(graph))


# Module cycles the code had inside one app: each must be found again if it came back.
FORMER_CYCLES = [
    ("portal.release.tasks", "portal.release.services"),
    ("portal.notifications.delivery", "portal.notifications.services"),
    ("portal.notifications.channels", "portal.notifications.services"),
    ("portal.notifications.delivery", "portal.notifications.tasks"),
]


@pytest.mark.parametrize(("importer", "imported"), FORMER_CYCLES)
def test_a_former_cycle_would_be_found(graph, importer, imported):
    with_edge = copy.deepcopy(graph)
    with_edge.add_import(importer=importer, imported=imported, line_number=1, line_contents="")
    assert _cycles(with_edge)


def test_no_module_is_over_600_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / "portal").rglob("*.py")
        if "migrations" not in path.parts
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert not long, long
