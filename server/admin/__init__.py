"""Configuration by admins: users, regions, cadence rules and the gift catalog."""
