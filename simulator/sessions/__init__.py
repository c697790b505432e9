"""The use cases the app and the CLI share: `clock` (the session clock and its phases) and `attempts`
(start, resume, autosave, next phase, submit and submit on expiry of a practice attempt).
"""
