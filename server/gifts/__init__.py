"""Gifts given to customers, with the yearly cap flag managers review."""
