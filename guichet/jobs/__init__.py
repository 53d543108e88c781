"""Scheduled jobs: registry (ids, triggers), runner (JobRun, leader lock), one module per family."""
