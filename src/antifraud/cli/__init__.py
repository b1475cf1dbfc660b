"""The ``antifraud`` command line (typer). Heavy modules are imported inside commands."""
