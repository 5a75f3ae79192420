"""Embeddings in OpenAI's shape: one vector per input, also from servers that answer one per token."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeGuard


def one_vector_per_input(body: Any) -> tuple[Any, bool]:
    """The answer with per-token vectors (llama-cpp-python, for models without pooling) mean-pooled
    and L2-normalised, as llama.cpp's own `--pooling mean` does; and whether any were."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, list):
        return body, False
    pooled = False
    items = []
    for item in data:
        vectors = item.get("embedding") if isinstance(item, Mapping) else None
        if _per_token(vectors):
            item = {**item, "embedding": _mean_unit(vectors)}
            pooled = True
        items.append(item)
    return ({**body, "data": items}, True) if pooled else (body, False)


def _per_token(value: Any) -> TypeGuard[list[list[float]]]:
    return isinstance(value, list) and bool(value) and all(
        isinstance(row, list) and row and len(row) == len(value[0]) for row in value
    )


def _mean_unit(vectors: list[list[float]]) -> list[float]:
    mean = [sum(column) / len(vectors) for column in zip(*vectors, strict=True)]
    norm = math.sqrt(sum(x * x for x in mean)) or 1.0
    return [x / norm for x in mean]
