"""The bottom layer: units, paths and the KPI catalogue. Imports nothing of the package."""
