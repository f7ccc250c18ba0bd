"""Evaluation data and tools (python -m eval.extra.build builds the second corpus)."""
