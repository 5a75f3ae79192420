"""Images in requests: the operator's rules for image URLs, fetching them, and the per-request step."""
