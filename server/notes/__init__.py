"""Notes, feedback and complaints (complaints carry open/resolved and a response time)."""
