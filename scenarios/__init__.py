"""Locust user classes and the scenario matrix. See matrix.py to add a scenario."""
