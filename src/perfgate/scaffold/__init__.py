"""``perfgate init``: a first run on your own API without hand-writing config.

- :func:`plan_init` — what to write: Artillery scripts found (or a starter from an
  OpenAPI file), the start command and readiness path guessed from the repository
- :func:`write_init` — write perfgate.yml and .github/workflows/perfgate.yml, validated
- :func:`smoke_run` — a few seconds proving the service starts and the script reaches it
"""

from perfgate.scaffold._guess import ServiceGuess, guess_ready_path, guess_service
from perfgate.scaffold._init import InitPlan, plan_init, validate, write_init
from perfgate.scaffold._render import (
    DEFAULT_ACTION,
    render_config,
    render_workflow,
    validate_workflow,
)
from perfgate.scaffold._scripts import FoundScript, discover_scripts, find_openapi, starter_script
from perfgate.scaffold._smoke import SmokeResult, smoke_run

__all__ = [
    "DEFAULT_ACTION",
    "FoundScript",
    "InitPlan",
    "ServiceGuess",
    "SmokeResult",
    "discover_scripts",
    "find_openapi",
    "guess_ready_path",
    "guess_service",
    "plan_init",
    "render_config",
    "render_workflow",
    "smoke_run",
    "starter_script",
    "validate",
    "validate_workflow",
    "write_init",
]
