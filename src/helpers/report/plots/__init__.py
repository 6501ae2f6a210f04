"""Figures. One module per area; every function takes an ``ax`` (or creates one) and returns it.

Plotting never computes estimates: functions take result objects or tidy frames produced
by the computing modules.
"""
