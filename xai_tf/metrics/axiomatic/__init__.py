"""Axioms a map should satisfy: Quantus' Completeness and Non-Sensitivity (``axioms``)."""
