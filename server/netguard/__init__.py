"""Fetching URLs on a client's or a model's behalf: the address guard, pinned DNS, capped reads.

The agent's `http_request` tool and image URLs in requests both go through here.
"""
