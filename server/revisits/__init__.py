"""Planned revisits over REST: list the caller's plan, plan by hand, move or close a plan.

The cadence engine (``server.planning``) computes plans; this area only lets people
see and adjust them. A date set by a person is ``source="manual"`` and wins until
that visit is done.
"""
