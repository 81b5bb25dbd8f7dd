"""Cadences and planned revisits: the pure engine (``cadence``), the sync-engine hooks that
apply it when visits, customers or rules change (``hooks``, wired in ``recompute``), and the
list of forgotten customers (``forgotten``). See docs/scheduling.md."""
