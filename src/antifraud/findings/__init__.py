"""Detectors -> findings: one model of what a run found, and the files written from it.

The model and writers load the detection stack; they are imported on first use, so that
:mod:`antifraud.findings.rings` (read by the evidence bundles) stays light.
"""

import importlib

__all__ = ["Findings", "build_findings", "describe_rings", "ring_ids", "write_findings"]

_HOME = {"Findings": "model", "build_findings": "model", "describe_rings": "outputs", "ring_ids": "rings",
         "write_findings": "outputs"}


def __getattr__(name: str):
    if name in _HOME:
        return getattr(importlib.import_module(f"antifraud.findings.{_HOME[name]}"), name)
    raise AttributeError(f"module 'antifraud.findings' has no attribute {name!r}")
