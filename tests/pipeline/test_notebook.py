"""The planner's notebook runs end to end (with few replications) and is stored without outputs."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "scenario_comparison.ipynb"

FAST_PARAMETERS = """\
MUNICIPALITY = "average"
SCENARIOS = ["earlier_detection", "intensive_home_based"]
REPLICATIONS = 2
WRITE = True
RESULTS_DIR = {results!r}
UNCERTAINTY_SETS = 3
UNCERTAINTY_REPLICATIONS = 2
"""


def _tagged(nb, tag: str) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if tag in c.get("metadata", {}).get("tags", [])]


def test_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"stored notebook has outputs in cell:\n{cell.source[:200]}"
            assert cell.execution_count is None, f"stored notebook has an execution count in cell:\n{cell.source[:200]}"
    assert len(_tagged(nb, "parameters")) == 1
    assert len(_tagged(nb, "comparison")) == 1


@pytest.mark.slow
def test_notebook_executes(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    (params,) = _tagged(nb, "parameters")
    nb.cells[params].source = FAST_PARAMETERS.format(results=str(tmp_path / "results"))
    nb.cells[params].metadata["tags"] = ["injected-parameters"]

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

    # The run was written under tmp_path (and its catalog queried there).
    runs = [p for p in (tmp_path / "results").iterdir() if p.is_dir()]
    assert len(runs) == 1 and (runs[0] / "report.html").exists()
    assert (tmp_path / "results" / "results.duckdb").exists()
