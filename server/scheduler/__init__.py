"""Reminders: deciding what is due (``reminders``), sending it once (``delivery``), and the
APScheduler jobs that run both in the server or a ``revisit scheduler`` process (``jobs``)."""
