"""Presentation: numbers for people, the printed summary, the HTML report and figures.

Layer 4: imports ``sim.common`` and ``sim.metrics`` (and the config's types). Figures are in
``sim.report.plots`` (not imported here: matplotlib is heavy).
"""
from ..metrics.payback import headroom, payback, payback_years
from ..metrics.targets import calibration
from .format import fmt, format_comparison, format_summary, headroom_display, parameter_changes, payback_display
from .html import write_report
from .tables import budget_by_year, budget_tables, budget_text
from .summary import scenario_summaries, summary_html
from .text import summary_text, summary_text_full

__all__ = ["headroom", "payback", "payback_years", "calibration", "fmt", "format_comparison", "format_summary",
           "headroom_display", "parameter_changes", "payback_display", "write_report", "budget_by_year",
           "budget_tables", "budget_text", "summary_text", "summary_text_full", "scenario_summaries", "summary_html"]
