"""The planner's notebook runs end to end (with few replications) and is stored without outputs."""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "scenario_comparison.ipynb"
SENSITIVITY = ROOT / "conf" / "sensitivity" / "default.yaml"

# Injected after the notebook's own `parameters` cell (as papermill does), so the notebook's other settings
# (e.g. UNCERTAINTY_PARAMETERS, its five main drivers) are the ones tested. 15 sets for 5 parameters leave 9
# degrees of freedom for the drivers table.
FAST_PARAMETERS = """\
SCENARIOS = ["earlier_detection", "intensive_home_based"]
REPLICATIONS = 2
WRITE = True
RESULTS_DIR = {results!r}
UNCERTAINTY_SETS = 15
UNCERTAINTY_REPLICATIONS = 2
"""

# Appended by the test (not stored in the notebook): the drivers table as JSON, NaN as null.
PROBE = """\
import json as _json, math as _math
print("DRIVERS " + _json.dumps({"sets": n_sets, "parameters": list(unc.parameters),
                                "prcc": [v if _math.isfinite(v) else None for v in drivers.prcc.astype(float)]}))
"""


def _tagged(nb, tag: str) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if tag in c.get("metadata", {}).get("tags", [])]


def _parameters(nb) -> dict:
    (params,) = _tagged(nb, "parameters")
    ns: dict = {}
    exec(nb.cells[params].source, ns)  # plain assignments, as papermill requires
    return ns


def test_notebook_is_stored_without_outputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. nbformat's MissingIDFieldWarning for a cell without an id
        nb = nbformat.read(NOTEBOOK, as_version=4)
        nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) >= (4, 5)
    ids = [c.get("id") for c in nb.cells]
    assert all(ids) and len(set(ids)) == len(ids), "every cell needs its own id"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"stored notebook has outputs in cell:\n{cell.source[:200]}"
            assert cell.execution_count is None, f"stored notebook has an execution count in cell:\n{cell.source[:200]}"
    assert len(_tagged(nb, "parameters")) == 1
    assert len(_tagged(nb, "comparison")) == 1
    assert len(_tagged(nb, "drivers")) == 1


def test_notebook_defaults_leave_room_for_the_drivers():
    """The partial rank correlations need more parameter sets than varied parameters + 1 (else all NaN)."""
    p = _parameters(nbformat.read(NOTEBOOK, as_version=4))
    ranges = [r["key"] for r in yaml.safe_load(SENSITIVITY.read_text())["sensitivity"]["parameters"]]
    varied = ranges if p["UNCERTAINTY_PARAMETERS"] is None else p["UNCERTAINTY_PARAMETERS"]
    assert set(varied) <= set(ranges), f"not in {SENSITIVITY.name}: {set(varied) - set(ranges)}"
    assert p["UNCERTAINTY_SETS"] >= len(varied) + 2, (
        f"{p['UNCERTAINTY_SETS']} sets for {len(varied)} parameters: the drivers table would be all NaN")


@pytest.mark.slow
def test_notebook_executes(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    (params,) = _tagged(nb, "parameters")
    nb.cells.insert(params + 1, nbformat.v4.new_code_cell(FAST_PARAMETERS.format(results=str(tmp_path / "results")),
                                                          metadata={"tags": ["injected-parameters"]}))
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))

    # cwd = tmp_path: the relative output.dir ("results") and the catalog land there, not in the repo.
    client = NotebookClient(nb, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError if any cell fails

    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors

    (comparison,) = _tagged(nb, "comparison")
    outputs = nb.cells[comparison].outputs
    assert outputs, "the comparison table cell produced no output"
    text = "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "earlier_detection" in text and "intensive_home_based" in text
    assert "cost_total_dkk" in text

    (unc,) = _tagged(nb, "uncertainty")
    text = "".join(o.get("data", {}).get("text/plain", "") for o in nb.cells[unc].outputs)
    assert "share_below_0" in text and "intensive_home_based" in text

    # The drivers table has an answer: at least one finite partial rank correlation, and no "too few sets".
    (line,) = [ln for o in nb.cells[-1].outputs if o.output_type == "stream"
               for ln in o.text.splitlines() if ln.startswith("DRIVERS ")]
    drivers = json.loads(line.removeprefix("DRIVERS "))
    finite = [v for v in drivers["prcc"] if v is not None and math.isfinite(v)]
    assert finite, f"the drivers table is all NaN ({drivers['sets']} sets, {len(drivers['parameters'])} parameters)"
    assert all(-1 <= v <= 1 for v in finite)
    assert drivers["sets"] == 15 and drivers["parameters"] == _parameters(nb)["UNCERTAINTY_PARAMETERS"]
    (drv,) = _tagged(nb, "drivers")
    shown = "".join(o.get("data", {}).get("text/markdown", "") for o in nb.cells[drv].outputs)
    assert "Too few parameter sets" not in shown, shown

    # The run was written under tmp_path (and its catalog queried there).
    runs = [p for p in (tmp_path / "results").iterdir() if p.is_dir()]
    assert len(runs) == 1 and (runs[0] / "report.html").exists()
    assert (tmp_path / "results" / "results.duckdb").exists()
