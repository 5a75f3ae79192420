"""OpenAI-compatible HTTP server over the copilot and claude CLIs."""
