"""Estimators: proportions (independent, paired, weighted), the outcome comparison, questionnaires, power, survival."""
