"""OpenAI-compatible model servers (LM Studio, Ollama, vLLM, llama.cpp, OpenAI itself) as backends."""

from executors.upstream.config import read_configs

__all__ = ["read_configs"]
