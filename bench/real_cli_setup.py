"""Shared by the real-CLI benches: the offline env recipe, the bridge as a process, leak checks.

The real `copilot` and `claude` from npm (in ./.tools) talk to tests/fakes/model_server.py on a
loopback port, exactly as in the realcli test tier (tests/fakes/README.md); nothing leaves the
machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bench.measure import free_port
from tests.processes import processes_with

ROOT = Path(__file__).resolve().parent.parent
__all__ = ["processes_with"]  # the benches import it from here with the rest of the set-up


def real_cli(name: str) -> str:
    """The npm CLI installed by `make clis` (or REAL_<NAME>_PATH)."""
    path = os.environ.get(f"REAL_{name.upper()}_PATH") or str(ROOT / ".tools" / "node_modules" / ".bin" / name)
    if not os.access(path, os.X_OK):
        raise SystemExit(f"the real {name} CLI is not installed at {path}; run `make clis`")
    return path


def copilot_cache(tmp: Path) -> Path:
    """Where Copilot unpacks itself on its first run (235 MB): REAL_CLI_CACHE_DIR to keep one."""
    return Path(os.environ["REAL_CLI_CACHE_DIR"]) if os.environ.get("REAL_CLI_CACHE_DIR") else tmp / "cache"


def cli_env(model_url: str, home: Path, cache: Path) -> dict[str, str]:
    """What both CLIs need offline: a private HOME, the fake model server, unique keys as markers."""
    return {
        "PATH": os.environ.get("PATH", ""), "HOME": str(home), "XDG_CACHE_HOME": str(cache),
        "COPILOT_OFFLINE": "true", "COPILOT_PROVIDER_BASE_URL": f"{model_url}/v1",
        "COPILOT_PROVIDER_API_KEY": "key-" + secrets.token_hex(16),
        "ANTHROPIC_BASE_URL": model_url, "ANTHROPIC_API_KEY": "sk-ant-" + secrets.token_hex(8),
        "CLAUDE_CODE_MAX_RETRIES": "1", "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "IS_SANDBOX": "1",
    }


class Bridge:
    """`python -m server` with the real CLIs, in the long-lived modes unless told otherwise."""

    def __init__(self, env: dict[str, str], tmp: Path, **settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.temp_base = tmp / "bridge-tmp"
        self.env = {**env, "PORT": str(self.port), "SERVICE": "copilot,claude", "LOG_LEVEL": "warning",
                    "LOG_DIR": str(tmp / "logs"), "LOG_REQUESTS": "false", "TEMP_DIR_BASE": str(self.temp_base),
                    "COPILOT_CLI_PATH": real_cli("copilot"), "CLAUDE_CLI_PATH": real_cli("claude"),
                    "COPILOT_MODE": "headless", "CLAUDE_MODE": "pool", "CLAUDE_POOL_MODELS": "sonnet",
                    "REQUEST_TIMEOUT": "120000", **settings}
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr = tmp / "bridge-stderr.txt"

    async def start(self, session: aiohttp.ClientSession) -> None:
        with self.stderr.open("wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "server", cwd=self.temp_base.parent, env=self.env,
                stdout=asyncio.subprocess.DEVNULL, stderr=err)
        await self.warm(session, timeout=120)

    async def health(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        async with session.get(f"{self.url}/health") as resp:
            return dict((await resp.json())["backends"])

    async def warm(self, session: aiohttp.ClientSession, timeout: float = 60) -> dict[str, Any]:
        """Wait until the headless server is warm and the pool has its idle `sonnet`."""
        deadline = asyncio.get_running_loop().time() + timeout
        last: Any = None
        while asyncio.get_running_loop().time() < deadline:
            try:
                last = await self.health(session)
                server = last["copilot"].get("warm", {}).get("server")
                pool = last["claude"].get("warm", {})
                if (server is None or not server["warmed"]) and self.env["COPILOT_MODE"] != "oneshot":
                    raise LookupError
                if self.env["CLAUDE_MODE"] != "oneshot" and pool.get("ready", 0) < 1:
                    raise LookupError
                return dict(last)
            except (aiohttp.ClientError, LookupError, KeyError):
                await asyncio.sleep(0.05)
        raise SystemExit(f"the bridge did not warm up: {last}\n{self.stderr.read_text()[-3000:]}")

    async def stop(self) -> int:
        """SIGTERM, as PM2/systemd stop it; its exit status."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 60)


async def first_content(session: aiohttp.ClientSession, url: str, model: str, prompt: str) -> tuple[float, str]:
    """Seconds from sending a streamed request to its first content chunk, and the whole text."""
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": prompt}]}
    started = asyncio.get_running_loop().time()
    first: float | None = None
    pieces: list[str] = []
    async with session.post(f"{url}/v1/chat/completions", json=body) as resp:
        if resp.status != 200:
            raise RuntimeError(f"{resp.status}: {await resp.text()}")
        async for line in resp.content:
            if not line.startswith(b"data: {"):
                continue
            chunk = json.loads(line[6:])
            if "error" in chunk:
                raise RuntimeError(chunk["error"]["message"])
            content = (chunk["choices"][0]["delta"].get("content") if chunk["choices"] else None) or ""
            if content and first is None:
                first = asyncio.get_running_loop().time() - started
            pieces.append(content)
    if first is None:
        raise RuntimeError("no content")
    return first, "".join(pieces)




def session_dirs(home: Path) -> list[str]:
    state = home / ".copilot" / "session-state"
    return [p.name for p in state.iterdir() if not p.name.startswith(".")] if state.is_dir() else []


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"
