"""Detectors -> findings: per-entity scores and rings, written as files for people and tools."""

from antifraud.findings.outputs import describe_rings, ring_ids, write_findings

__all__ = ["describe_rings", "ring_ids", "write_findings"]
