"""Evaluation: metrics, baselines, scoring on identical points, backtests, intervals and plots."""
