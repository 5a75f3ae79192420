"""The OpenAI protocol side: request parsing and the error table."""
