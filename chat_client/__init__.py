"""A terminal chat client for the copilot-bridge server; it talks HTTP only."""
