"""The model: compiled parameters, random streams and the SimPy processes of one replication.

Layer 2: imports ``sim.common`` and ``sim.config``. Modules: ``params`` (the compiled parameters),
``streams`` (random numbers), ``child`` (a child's record), ``team`` (the caseworkers), ``rules`` and
``population`` (pure policy rules), ``recorder`` (the statistics and RepResult), ``practice`` (changes of
practice and staffing), ``life`` (a child's life), ``casework`` (notifications and tasks), ``model`` (the SimPy
processes) and ``branch`` (one warm-up for all arms).
"""
from .branch import can_branch
from .model import Model
from .params import Compiled, compile_arm, compile_config
from .recorder import C, CTR, RepResult
from .streams import design_rng, replication_streams
from .team import Team

__all__ = ["C", "CTR", "Model", "RepResult", "Team", "Compiled", "compile_arm", "compile_config", "design_rng",
           "replication_streams", "can_branch"]
