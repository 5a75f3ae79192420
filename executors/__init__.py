"""Backends: each receives a structured request and yields typed events (see `executors.protocol`)."""

from executors.background import Background
from executors.errors import (
    BackendBusy,
    BackendError,
    CliAuthFailed,
    CliError,
    CliFailed,
    CliModelRejected,
    CliNotFound,
    CliOutputError,
)
from executors.events import (
    BackendEvent,
    Finished,
    ReasoningDelta,
    RunInfo,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from executors.protocol import (
    Backend,
    BackendConfig,
    BackendContext,
    BackendHealth,
    Capabilities,
    ModelEntry,
    RawForwarding,
)
from executors.request import (
    IMAGE_TYPES,
    BackendRequest,
    ImagePart,
    Message,
    ToolCallRecord,
    ToolProtocol,
)
from executors.slots import CliSlots
from executors.table import build_backends, read_backend_configs

__all__ = [
    "IMAGE_TYPES",
    "Backend",
    "BackendBusy",
    "BackendConfig",
    "BackendContext",
    "BackendError",
    "BackendEvent",
    "BackendHealth",
    "BackendRequest",
    "Background",
    "Capabilities",
    "CliAuthFailed",
    "CliError",
    "CliFailed",
    "CliModelRejected",
    "CliNotFound",
    "CliOutputError",
    "CliSlots",
    "Finished",
    "ImagePart",
    "Message",
    "ModelEntry",
    "RawForwarding",
    "ReasoningDelta",
    "RunInfo",
    "TextDelta",
    "ToolCallDelta",
    "ToolCallRecord",
    "ToolProtocol",
    "UsageReport",
    "build_backends",
    "read_backend_configs",
]
