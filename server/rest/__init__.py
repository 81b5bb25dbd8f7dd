"""Pieces every REST area shares: scope filters, paging, the write adapter, time."""
