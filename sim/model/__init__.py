"""The model: compiled parameters, random streams and the SimPy processes of one replication.

Layer 2: imports ``sim.common`` and ``sim.config``.
"""
from .model import C, CTR, Model, RepResult, Team
from .params import Compiled, compile_arm, compile_config
from .streams import design_rng, replication_streams

__all__ = ["C", "CTR", "Model", "RepResult", "Team", "Compiled", "compile_arm", "compile_config", "design_rng",
           "replication_streams"]
