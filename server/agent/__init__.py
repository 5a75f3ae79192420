"""The bridge's own agent: a model answers with tools the server runs (`/api/chat`, `/api/agent_chat`)."""
