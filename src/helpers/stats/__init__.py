"""Estimators: proportions, questionnaires, power, survival."""
