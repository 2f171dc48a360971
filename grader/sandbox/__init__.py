"""The trust boundary: student code runs only in a separate, freshly started process.

``protocol`` is the wire format, ``worker`` runs inside the student's process,
``runner`` is the trusted parent that starts, limits and talks to it.
"""
