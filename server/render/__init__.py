"""Wire formats: the shared SSE transport and one renderer per API."""
