"""Manager and admin reports: the coverage dashboard (issue 6)."""
