"""Complexity: how simple or concentrated a map is, from the map alone.

- ``entropy``: XAI entropy, the compressed size of the rendered map (paper 001);
- ``quantus_complexity``: Quantus' Sparseness, Complexity and Effective Complexity.
"""
