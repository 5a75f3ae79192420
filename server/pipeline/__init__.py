"""One request's run: model catalog, backend request, backend events → output events."""
