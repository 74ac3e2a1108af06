"""Analyses built from many runs: calibration, sensitivity, joint uncertainty and sweeps.

Layer 7: above the runner, the store and ``sim.publish``; below the API and the command line.
"""
