"""The use cases the app and the CLI share: `clock` (the session clock and its phases)."""
