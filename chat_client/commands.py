"""The slash commands: a name → handler table built in a function."""

from __future__ import annotations

from collections.abc import Callable

from chat_client.api import ApiError
from chat_client.state import ChatState

# A handler gets the text after the command name and returns False to leave the chat.
Handler = Callable[[ChatState, str], bool]

HELP = """\
/model NAME     switch to model NAME (without NAME: show the current one)
/models         list the models the server offers
/system PROMPT  set the system prompt and start a new conversation
/clear          start a new conversation (the system prompt stays)
/history        show the conversation so far
/help           show this help
/quit, /exit    leave (Ctrl-D or Ctrl-C at an empty prompt, too)
Ctrl-C while an answer streams stops that answer."""


def command_table() -> dict[str, Handler]:
    """Return every command by name."""
    return {
        "/model": set_model,
        "/models": list_models,
        "/system": set_system,
        "/clear": clear,
        "/history": show_history,
        "/help": show_help,
        "/quit": leave,
        "/exit": leave,
    }


def run_command(state: ChatState, line: str) -> bool:
    """Run one `/command args` line; return False when the chat should end."""
    name, _, arg = line.strip().partition(" ")
    handler = command_table().get(name.lower())
    if handler is None:
        state.say(f"unknown command {name} (type /help for the list)")
        return True
    return handler(state, arg.strip())


def set_model(state: ChatState, arg: str) -> bool:
    """Switch the model, or show the current one."""
    if not arg:
        state.say(f"model: {state.model or '(the first one the server lists)'}")
        state.say("usage: /model NAME (see /models)")
    else:
        state.model = arg
        state.say(f"model set to {arg}")
    return True


def list_models(state: ChatState, arg: str) -> bool:
    """List the server's models, marking the current one."""
    try:
        models = state.client.list_models()
    except ApiError as exc:
        state.fail(exc)
        return True
    if not models:
        state.say("the server lists no models")
    for model in models:
        state.say(f"{'*' if model == state.model else ' '} {model}")
    return True


def set_system(state: ChatState, arg: str) -> bool:
    """Set the system prompt and reset the conversation, or show the current prompt."""
    if not arg:
        state.say(f"system prompt: {state.conversation.system_prompt or '(none)'}")
        state.say("usage: /system PROMPT (sets it and starts a new conversation)")
        return True
    state.conversation.set_system(arg)
    state.say("system prompt set; conversation cleared")
    return True


def clear(state: ChatState, arg: str) -> bool:
    """Start a new conversation."""
    state.conversation.clear()
    state.say("conversation cleared")
    return True


def show_history(state: ChatState, arg: str) -> bool:
    """Print every message that the next request would send."""
    messages = state.conversation.messages()
    if not messages:
        state.say("(no messages yet)")
    for message in messages:
        state.say(f"{message.role}: {message.content}")
    return True


def show_help(state: ChatState, arg: str) -> bool:
    """Print the command list."""
    state.say(HELP)
    return True


def leave(state: ChatState, arg: str) -> bool:
    """End the chat."""
    return False
