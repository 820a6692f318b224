"""The chat: turn by turn taste feedback, saved sessions."""
