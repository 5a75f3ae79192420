"""Skipping CLI lines a decoder ignores, by their first bytes, never skips one it reads."""

from __future__ import annotations

import json

from executors.cli.running import wanted_line

WANTED = frozenset({b"assistant.message_delta", b"result"})


def test_lines_of_other_types_are_skipped_and_wanted_ones_kept() -> None:
    assert wanted_line(b'{"type":"assistant.message_delta","data":{"deltaContent":"hi"}}\n', WANTED)
    assert wanted_line(b'{"type":"result","exitCode":0}', WANTED)
    assert not wanted_line(b'{"type":"session.skills_loaded","data":{"skills":[]}}\n', WANTED)
    assert not wanted_line(b'{"type":"assistant.message_start","data":{}}', WANTED)
    # A prefix of a wanted type is another type.
    assert not wanted_line(b'{"type":"assistant.message","data":{}}', WANTED)


def test_anything_not_shaped_as_expected_is_decoded_as_usual() -> None:
    for line in (
        b'{"data":{},"type":"session.info"}',  # type not first: cannot tell, so decode
        b'{ "type": "session.info" }',  # spaced JSON
        b'{"type":"unterminated',
        b"plain text the CLI printed",
        b"",
        json.dumps({"type": "session.info"}).encode(),  # json.dumps puts a space after the colon
    ):
        assert wanted_line(line, WANTED), line
