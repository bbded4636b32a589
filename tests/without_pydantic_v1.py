"""A pytest plugin (pyproject.toml's ``-p``) that runs the tests without
pydantic.v1, as the Lambda packages do (scripts/package.py leaves it out), so
that nothing comes to need it unnoticed. Loaded before any conftest, so before
any route is declared: FastAPI asks for pydantic.v1 when it declares one."""

import sys

from shared.coldstart import block_pydantic_v1

assert "pydantic.v1" not in sys.modules, "imported before the tests could block it"
block_pydantic_v1()
