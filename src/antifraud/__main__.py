"""Allow ``python -m antifraud``."""

from antifraud.cli.main import app

app(prog_name="antifraud")
