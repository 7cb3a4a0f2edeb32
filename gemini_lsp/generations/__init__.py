"""Orchestration: one generation from prompt to answer, and the registry of them all."""
