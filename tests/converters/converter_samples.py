"""Samples covering every dialect and every correctness rule, with the expected whole-text parse."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def tool(name: str, properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """An OpenAI chat tool definition."""
    schema = {"type": "object", "properties": properties, "required": list(required)}
    return {
        "type": "function",
        "function": {"name": name, "description": f"{name} tool", "parameters": schema},
    }


WEATHER = tool(
    "get_weather",
    {
        "city": {"type": "string"},
        "days": {"type": "integer"},
        "unit": {"type": "string", "enum": ["c", "f"]},
        "zip": {"type": "string"},
    },
    ("city",),
)
SEARCH = tool(
    "search", {"q": {"type": "string"}, "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}
)
CONFIG = tool(
    "configure",
    {
        "flag": {"type": "boolean"},
        "ratio": {"type": "number"},
        "opts": {"type": "object"},
        "tags": {"type": "array"},
        "note": {"type": ["string", "null"]},
    },
)
TOOLS = [WEATHER, SEARCH, CONFIG]
# A tool offered with no `parameters` at all: nothing types its arguments.
PING = {"type": "function", "function": {"name": "ping", "description": "ping tool"}}
NS = "antml" + ":"  # the namespaced Anthropic tags, assembled so this file stays plain text
BEGIN, CALL, SEP = "<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "<｜tool▁sep｜>"
CALL_END, END = "<｜tool▁call▁end｜>", "<｜tool▁calls▁end｜>"
KIMI = (
    "<|tool_calls_section_begin|>",
    "<|tool_call_begin|>",
    "<|tool_call_argument_begin|>",
    "<|tool_call_end|>",
    "<|tool_calls_section_end|>",
)


@dataclass(frozen=True)
class Sample:
    """One model answer and what parse() must make of it."""

    id: str
    text: str
    content: str | None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tools: list[dict[str, Any]] | None = field(default_factory=lambda: TOOLS)


def _kimi(*calls: tuple[str, str]) -> str:
    body = "".join(f"{KIMI[1]}{ident}{KIMI[2]}{args}{KIMI[3]}" for ident, args in calls)
    return f"{KIMI[0]}{body}{KIMI[4]}"


SAMPLES = [
    # Hermes / Qwen
    Sample(
        "hermes",
        'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
        "Let me check.",
        [("get_weather", {"city": "Paris"})],
    ),
    Sample(
        "hermes-two",
        '<tool_call>\n{"name": "search", "arguments": {"q": "a"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "search", "arguments": {"q": "b"}}\n</tool_call>',
        None,
        [("search", {"q": "a"}), ("search", {"q": "b"})],
    ),
    Sample(
        "hermes-no-closer",
        '<tool_call>\n{"name": "search", "arguments": {"q": "x"}}',
        None,
        [("search", {"q": "x"})],
    ),
    Sample(
        "hermes-closer-in-string",
        '<tool_call>{"name": "search", "arguments": {"q": "a</tool_call>b {]"}}</tool_call>',
        None,
        [("search", {"q": "a</tool_call>b {]"})],
    ),
    Sample(
        "hermes-string-arguments",
        '<tool_call>{"name": "search", "arguments": "{\\"q\\": \\"s\\"}"}</tool_call>',
        None,
        [("search", {"q": "s"})],
    ),
    Sample(
        "hermes-unicode",
        '<tool_call>{"name": "search", "arguments": {"q": "你好世界 ünï"}}</tool_call>',
        None,
        [("search", {"q": "你好世界 ünï"})],
    ),
    Sample(
        "hermes-text-around",
        'Before <tool_call>{"name": "search", "arguments": {"q": "x"}}</tool_call> after.',
        "Before  after.",
        [("search", {"q": "x"})],
    ),
    Sample(
        "hermes-unknown-tool",
        '<tool_call>{"name": "rm_rf", "arguments": {}}</tool_call>',
        '<tool_call>{"name": "rm_rf", "arguments": {}}</tool_call>',
    ),
    Sample(
        "hermes-no-tools-any-name",
        '<tool_call>{"name": "anything", "arguments": {"a": 1}}</tool_call>',
        None,
        [("anything", {"a": 1})],
        tools=None,
    ),
    Sample(
        "hermes-truncated",
        'Hi <tool_call>{"name": "search", "arguments": {"q": "a',
        'Hi <tool_call>{"name": "search", "arguments": {"q": "a',
    ),
    Sample(
        "hermes-invalid-json",
        "<tool_call>{name: search}</tool_call> ok",
        "<tool_call>{name: search}</tool_call> ok",
    ),
    Sample("hermes-empty", "<tool_call>   ", "<tool_call>   "),
    Sample(
        "hermes-in-think",
        '<think>try <tool_call>{"name": "search", "arguments": {}}</tool_call></think>Answer',
        '<think>try <tool_call>{"name": "search", "arguments": {}}</tool_call></think>Answer',
    ),
    Sample(
        "think-then-call",
        '<think>plan</think>\n<tool_call>{"name": "search", "arguments": {"q": "z"}}</tool_call>',
        "<think>plan</think>",
        [("search", {"q": "z"})],
    ),
    Sample(
        "hermes-in-fence",
        'Example:\n```\n<tool_call>{"name": "search", "arguments": {}}</tool_call>\n```\nDone',
        'Example:\n```\n<tool_call>{"name": "search", "arguments": {}}</tool_call>\n```\nDone',
    ),
    Sample(
        "after-fence",
        '```xml\n<tool_call>\n```\n<tool_call>{"name": "search", "arguments": {}}</tool_call>',
        "```xml\n<tool_call>\n```",
        [("search", {})],
    ),
    Sample(
        "tilde-fence",
        '~~~~\n```\n<tool_call>{"name": "search", "arguments": {}}</tool_call>\n~~~~\nend',
        '~~~~\n```\n<tool_call>{"name": "search", "arguments": {}}</tool_call>\n~~~~\nend',
    ),
    Sample(
        "prose-lt",
        "if a <b and c < d then [x] {y}\n<tool> <tool_cal",
        "if a <b and c < d then [x] {y}\n<tool> <tool_cal",
    ),
    # GLM
    Sample(
        "glm",
        "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n"
        "<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>",
        None,
        [("get_weather", {"city": "Beijing", "days": 3})],
    ),
    Sample(
        "glm47-no-newline",
        "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Beijing</arg_value></tool_call>",
        None,
        [("get_weather", {"city": "Beijing"})],
    ),
    Sample("glm-zero-args", "<tool_call>search\n</tool_call>", None, [("search", {})]),
    Sample(
        "glm-unstripped-string",
        "<tool_call>search<arg_key>q</arg_key><arg_value>  two words \n</arg_value></tool_call>",
        None,
        [("search", {"q": "  two words \n"})],
    ),
    Sample(
        "glm-closer-in-value",
        "<tool_call>search<arg_key>q</arg_key><arg_value>a</arg_value>b</arg_value></tool_call>",
        None,
        [("search", {"q": "a</arg_value>b"})],
    ),
    Sample(
        "glm-untyped-leading-zero",
        "<tool_call>other<arg_key>zip</arg_key><arg_value>020</arg_value>"
        "<arg_key>n</arg_key><arg_value>42</arg_value><arg_key>b</arg_key><arg_value>true</arg_value></tool_call>",
        None,
        [("other", {"zip": "020", "n": "42", "b": "true"})],
        tools=None,
    ),
    Sample(
        "glm-schema-string-digits",
        "<tool_call>get_weather<arg_key>city</arg_key><arg_value>X</arg_value>"
        "<arg_key>zip</arg_key><arg_value>020</arg_value></tool_call>",
        None,
        [("get_weather", {"city": "X", "zip": "020"})],
    ),
    # A GLM call has no end but `</tool_call>`: cut off before it, it is truncated (vLLM's
    # test_extract_tool_calls_incomplete_tool_call).
    Sample(
        "glm-no-closer",
        "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n"
        "<arg_key>date</arg_key>\n<arg_value>2025-08-01</arg_value>",
        "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n"
        "<arg_key>date</arg_key>\n<arg_value>2025-08-01</arg_value>",
    ),
    Sample(
        "glm-no-closer-after-text",
        "Sure.\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n",
        "Sure.\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n",
    ),
    Sample(
        "glm-second-call-cut",
        "<tool_call>search<arg_key>q</arg_key><arg_value>a</arg_value></tool_call>\n"
        "<tool_call>search<arg_key>q</arg_key><arg_value>b</arg_value>",
        "<tool_call>search<arg_key>q</arg_key><arg_value>b</arg_value>",
        [("search", {"q": "a"})],
    ),
    Sample(
        "glm-prose",
        "<tool_call> is the tag name, see docs",
        "<tool_call> is the tag name, see docs",
    ),
    # Qwen3-Coder
    Sample(
        "qwen3coder",
        "<tool_call>\n<function=get_weather>\n<parameter=city>\nDallas\n</parameter>\n"
        "<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>",
        None,
        [("get_weather", {"city": "Dallas", "days": 2})],
    ),
    Sample(
        "qwen3coder-bare",
        "Sure.\n<function=search>\n<parameter=q>\nhello\n</parameter>\n</function>",
        "Sure.",
        [("search", {"q": "hello"})],
    ),
    Sample(
        "qwen3coder-closers-in-value",
        '<tool_call>\n<function=search>\n<parameter=q>\nx = "</parameter>"\n'
        "</function> y\n</parameter>\n</function>\n</tool_call>",
        None,
        [("search", {"q": 'x = "</parameter>"\n</function> y'})],
    ),
    Sample(
        "qwen3coder-typed",
        "<tool_call>\n<function=configure>\n<parameter=flag>\nTrue\n</parameter>\n"
        '<parameter=ratio>\n0.5\n</parameter>\n<parameter=opts>\n{"width": 10}\n</parameter>\n'
        "<parameter=tags>\n['a', 'b']\n</parameter>\n<parameter=note>\nnull\n</parameter>\n</function>\n</tool_call>",
        None,
        [
            (
                "configure",
                {
                    "flag": True,
                    "ratio": 0.5,
                    "opts": {"width": 10},
                    "tags": ["a", "b"],
                    "note": None,
                },
            )
        ],
    ),
    # Qwen3-Coder value layout: exactly one newline after the opening tag and one before the
    # closing tag are layout (vLLM and SGLang); spaces are content in strings, and typed values
    # ignore the whitespace around them.
    Sample(
        "qwen3coder-value-whitespace",
        "<tool_call>\n<function=get_weather>\n<parameter=city>\n  Paris \n</parameter>\n"
        "<parameter=days>\n 3 \n</parameter>\n<parameter=zip>\n 5 \n</parameter>\n</function>\n</tool_call>",
        None,
        [("get_weather", {"city": "  Paris ", "days": 3, "zip": " 5 "})],
    ),
    Sample(
        "qwen3coder-crlf",
        "<tool_call>\r\n<function=get_weather>\r\n<parameter=city>\r\nParis\r\n</parameter>\r\n"
        "<parameter=days>\r\n3\r\n</parameter>\r\n</function>\r\n</tool_call>",
        None,
        [("get_weather", {"city": "Paris", "days": 3})],
    ),
    Sample(
        "qwen3coder-string-keeps-inner-layout",
        "<function=search>\n<parameter=q>\n\n    def f():\n        pass\n\n</parameter>\n"
        "<parameter=limit>\n\t7\t\n</parameter>\n</function>",
        None,
        [("search", {"q": "\n    def f():\n        pass\n", "limit": 7})],
    ),
    Sample(
        "qwen3coder-typed-whitespace",
        "<function=configure>\n<parameter=flag>\n  true \n</parameter>\n<parameter=ratio>\n 0.5\r\n"
        "</parameter>\n<parameter=note>\n null \n</parameter>\n<parameter=tags>\n [1] \n</parameter>\n"
        "<parameter=opts>\n {'a': None} \n</parameter>\n</function>",
        None,
        [("configure", {"flag": True, "ratio": 0.5, "note": None, "tags": [1], "opts": {"a": None}})],
    ),
    Sample(
        "qwen3coder-untyped-whitespace",
        "<function=other>\n<parameter=n>\n 5 \n</parameter>\n</function>",
        None,
        [("other", {"n": " 5 "})],
        tools=None,
    ),
    Sample(
        "qwen3coder-anyof",
        "<function=search>\n<parameter=q>\n5\n</parameter>\n<parameter=limit>\n7\n"
        "</parameter>\n</function>",
        None,
        [("search", {"q": "5", "limit": 7})],
    ),
    Sample(
        "qwen3coder-cut-after-params",
        "<tool_call>\n<function=search>\n<parameter=q>\nx\n</parameter>\n",
        "<tool_call>\n<function=search>\n<parameter=q>\nx\n</parameter>\n",
    ),
    Sample(
        "qwen3coder-wrapper-cut",
        "<tool_call>\n<function=search>\n<parameter=q>\nx\n</parameter>\n</function>\n",
        None,
        [("search", {"q": "x"})],
    ),
    Sample(
        "qwen3coder-truncated-value",
        "<tool_call>\n<function=search>\n<parameter=q>\nx",
        "<tool_call>\n<function=search>\n<parameter=q>\nx",
    ),
    Sample(
        "seed-oss",
        "<seed:think>hm</seed:think><seed:tool_call>\n<function=search>\n<parameter=q>\nz\n</parameter>\n"
        "</function>\n</seed:tool_call>",
        "<seed:think>hm</seed:think>",
        [("search", {"q": "z"})],
    ),
    # Anthropic-style XML
    Sample(
        "claude-xml",
        'I\'ll look.\n<function_calls>\n<invoke name="get_weather">\n<parameter name="city">Rome'
        '</parameter>\n<parameter name="days">4</parameter>\n</invoke>\n<invoke name="search">\n'
        '<parameter name="q">x</parameter>\n</invoke>\n</function_calls>',
        "I'll look.",
        [("get_weather", {"city": "Rome", "days": 4}), ("search", {"q": "x"})],
    ),
    Sample(
        "claude-xml-namespaced",
        f'<{NS}function_calls>\n<{NS}invoke name="search">\n<{NS}parameter name="q">'
        f"hi</{NS}parameter>\n</{NS}invoke>\n</{NS}function_calls>",
        None,
        [("search", {"q": "hi"})],
    ),
    Sample(
        "claude-xml-bare-invoke",
        '<invoke name="search"><parameter name="q">x</parameter></invoke> done',
        "done",
        [("search", {"q": "x"})],
    ),
    Sample(
        "claude-xml-closer-in-value",
        '<function_calls><invoke name="search"><parameter name="q">a</parameter>'
        "b</invoke>c</parameter></invoke></function_calls>",
        None,
        [("search", {"q": "a</parameter>b</invoke>c"})],
    ),
    Sample(
        "claude-xml-dsml",
        '<｜DSML｜function_calls><｜DSML｜invoke name="configure"><｜DSML｜parameter '
        'name="note" string="true">杭州</｜DSML｜parameter><｜DSML｜parameter name="opts" string="false">{"a": 1}'
        "</｜DSML｜parameter></｜DSML｜invoke></｜DSML｜function_calls>",
        None,
        [("configure", {"note": "杭州", "opts": {"a": 1}})],
    ),
    Sample(
        "claude-xml-unknown-and-known",
        '<function_calls><invoke name="nope"><parameter name="a">1</parameter>'
        '</invoke><invoke name="search"><parameter name="q">y</parameter></invoke></function_calls>',
        '<invoke name="nope"><parameter name="a">1</parameter></invoke>',
        [("search", {"q": "y"})],
    ),
    Sample(
        "claude-xml-untyped",
        '<invoke name="other"><parameter name="n">3</parameter><parameter name="z">007'
        "</parameter></invoke>",
        None,
        [("other", {"n": "3", "z": "007"})],
        tools=None,
    ),
    Sample("claude-xml-prose", "Use <invoke name=...> tags.", "Use <invoke name=...> tags."),
    Sample(
        "claude-xml-truncated",
        '<function_calls><invoke name="search"><parameter name="q">x',
        '<function_calls><invoke name="search"><parameter name="q">x',
    ),
    Sample(
        "claude-xml-wrapper-cut",
        '<function_calls>\n<invoke name="search">\n<parameter name="q">x</parameter>\n</invoke>\n',
        None,
        [("search", {"q": "x"})],
    ),
    Sample(
        "claude-xml-invoke-cut",
        'Ok <invoke name="search">\n<parameter name="q">x</parameter>\n',
        'Ok <invoke name="search">\n<parameter name="q">x</parameter>\n',
    ),
    Sample(
        "minimax",
        '<minimax:tool_call>\n<invoke name="search">\n<parameter name="q">m</parameter>\n</invoke>\n'
        "</minimax:tool_call>",
        None,
        [("search", {"q": "m"})],
    ),
    # Harmony
    Sample(
        "harmony",
        "<|channel|>analysis<|message|>Need weather.<|end|><|start|>assistant<|channel|>commentary "
        'to=functions.get_weather <|constrain|>json<|message|>{"city":"Tokyo"}<|call|>',
        None,
        [("get_weather", {"city": "Tokyo"})],
    ),
    Sample(
        "harmony-header-recipient",
        '<|start|>assistant to=functions.search<|channel|>commentary json<|message|>{"q": "x"}',
        None,
        [("search", {"q": "x"})],
    ),
    Sample("harmony-final", "<|channel|>final<|message|>Hello there<|return|>", "Hello there"),
    Sample(
        "harmony-builtin",
        '<|channel|>commentary to=browser.search<|message|>{"q": 1}',
        '<|channel|>commentary to=browser.search<|message|>{"q": 1}',
    ),
    # Llama 3 JSON
    Sample(
        "llama3",
        '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}; '
        '{"name": "search", "parameters": {"q": "a"}}',
        None,
        [("get_weather", {"city": "Paris"}), ("search", {"q": "a"})],
    ),
    Sample(
        "llama3-builtin",
        "<|python_tag|>brave_search.call(query='x')",
        "<|python_tag|>brave_search.call(query='x')",
    ),
    # Pythonic
    Sample(
        "pythonic",
        "[get_weather(city='San Francisco', days=3), search(q=\"x\", limit=None)]",
        None,
        [
            ("get_weather", {"city": "San Francisco", "days": 3}),
            ("search", {"q": "x", "limit": None}),
        ],
    ),
    Sample(
        "pythonic-wrapped",
        "<|python_start|>[search(q='a]b')]<|python_end|>",
        None,
        [("search", {"q": "a]b"})],
    ),
    Sample(
        "pythonic-prose",
        "[see(x=1)] for details\n[link](http://x)\n[a, b]",
        "[see(x=1)] for details\n[link](http://x)\n[a, b]",
    ),
    # Pythonic lists inside prose: SGLang's detector finds `[` anywhere and keeps the text around
    # it; the names must be offered tools.
    Sample(
        "pythonic-prose-around",
        'Let me check. [get_weather(city="Paris")] Done.',
        "Let me check.  Done.",
        [("get_weather", {"city": "Paris"})],
    ),
    Sample(
        "pythonic-prose-after",
        "[search(q='a'), search(q='b')] Both sent.\nNext line.",
        "Both sent.\nNext line.",
        [("search", {"q": "a"}), ("search", {"q": "b"})],
    ),
    Sample(
        "pythonic-two-lists-in-a-sentence",
        "First [search(q='a')], then [get_weather(city='Rome', days=2)].",
        "First , then .",
        [("search", {"q": "a"}), ("get_weather", {"city": "Rome", "days": 2})],
    ),
    Sample(
        "pythonic-prose-unknown-name",
        "Run [rm_rf(path='/')] now, or [search(q='x'), rm_rf(path='/')] later.",
        "Run [rm_rf(path='/')] now, or [search(q='x'), rm_rf(path='/')] later.",
    ),
    Sample(
        "pythonic-prose-without-tools",
        "Try [f(x=1)] here.\n[g(y=2)]",
        "Try [f(x=1)] here.",
        [("g", {"y": 2})],
        tools=None,
    ),
    Sample(
        "pythonic-prose-not-calls",
        "See [the docs], a[i], [link](http://x), [f(x)] and [search (q)] or [search(q=].",
        "See [the docs], a[i], [link](http://x), [f(x)] and [search (q)] or [search(q=].",
    ),
    Sample(
        "json-list-mid-line",
        'See [{"name": "search", "arguments": {}}] ok',
        'See [{"name": "search", "arguments": {}}] ok',
    ),
    # Mistral
    Sample(
        "mistral-array",
        '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "[City Name]"}}]',
        None,
        [("get_weather", {"city": "[City Name]"})],
    ),
    Sample(
        "mistral-v11",
        '[TOOL_CALLS]get_weather{"city": "Paris"}[TOOL_CALLS]search{"q": "x"}',
        None,
        [("get_weather", {"city": "Paris"}), ("search", {"q": "x"})],
    ),
    Sample(
        "mistral-args",
        'Ok [TOOL_CALLS]search[CALL_ID]a1b2c3d4e[ARGS]{"q": "x"}',
        "Ok",
        [("search", {"q": "x"})],
    ),
    Sample("mistral-empty", "[TOOL_CALLS]search", "[TOOL_CALLS]search"),
    # DeepSeek
    Sample(
        "deepseek-v3",
        f'{BEGIN}{CALL}function{SEP}get_weather\n```json\n{{"city": "Tokyo"}}\n```{CALL_END}{END}',
        None,
        [("get_weather", {"city": "Tokyo"})],
    ),
    Sample(
        "deepseek-v31",
        f'Sure{BEGIN}{CALL}search{SEP}{{"q": "x"}}{CALL_END}{CALL}search{SEP}{{"q": "y"}}'
        f"{CALL_END}{END}",
        "Sure",
        [("search", {"q": "x"}), ("search", {"q": "y"})],
    ),
    Sample("deepseek-cut-off", f'{BEGIN}{CALL}search{SEP}{{"q"', f'{BEGIN}{CALL}search{SEP}{{"q"'),
    # Kimi K2
    Sample(
        "kimi",
        _kimi(
            ("functions.get_weather:0", '{"city": "Paris"}'), ("functions.search:1", '{"q": "x"}')
        ),
        None,
        [("get_weather", {"city": "Paris"}), ("search", {"q": "x"})],
    ),
    Sample(
        "kimi-counter-and-bad-id",
        _kimi(("0", '{"city": "Oslo"}'), ("functions.search", '{"q": "x"}')),
        None,
        [("get_weather", {"city": "Oslo"})],
    ),
    # Bare JSON fallback
    Sample(
        "json-bare",
        '{"name": "get_weather", "arguments": {"city": "Paris"}}',
        None,
        [("get_weather", {"city": "Paris"})],
    ),
    Sample(
        "json-fenced",
        'Calling:\n```json\n{"name": "search", "parameters": {"q": "x"}}\n```\n',
        "Calling:",
        [("search", {"q": "x"})],
    ),
    Sample(
        "json-answer",
        '{"name": "John", "age": 30}\n{"answer": 42}',
        '{"name": "John", "age": 30}\n{"answer": 42}',
    ),
    Sample(
        "json-fenced-answer", '```json\n{"result": [1, 2]}\n```', '```json\n{"result": [1, 2]}\n```'
    ),
    Sample(
        "json-no-tools",
        '{"name": "search", "arguments": {}}',
        '{"name": "search", "arguments": {}}',
        tools=None,
    ),
    Sample(
        "json-mid-line",
        'Call {"name": "search", "arguments": {}}',
        'Call {"name": "search", "arguments": {}}',
    ),
    Sample(
        "json-after-native",
        '<tool_call>{"name": "search", "arguments": {}}</tool_call>\n'
        '{"name": "search", "arguments": {"q": 1}}',
        '{"name": "search", "arguments": {"q": 1}}',
        [("search", {})],
    ),
    Sample(
        "json-list",
        '[{"name": "search", "arguments": {"q": "a"}}, {"name": "search", "arguments": {"q": "b"}}]',
        None,
        [("search", {"q": "a"}), ("search", {"q": "b"})],
    ),
    # XML-style values without a schema (no `parameters`, or a property it does not name) stay text
    Sample(
        "glm-no-parameters-schema",
        "<tool_call>ping<arg_key>count</arg_key><arg_value>5</arg_value>"
        "<arg_key>loud</arg_key><arg_value>true</arg_value></tool_call>",
        None,
        [("ping", {"count": "5", "loud": "true"})],
        tools=[*TOOLS, PING],
    ),
    Sample(
        "qwen3coder-property-not-in-schema",
        "<function=get_weather>\n<parameter=city>\nOslo\n</parameter>\n<parameter=count>\n5\n"
        "</parameter>\n<parameter=extra>\n[1, 2]\n</parameter>\n</function>",
        None,
        [("get_weather", {"city": "Oslo", "count": "5", "extra": "[1, 2]"})],
    ),
    Sample(
        "claude-xml-no-parameters-schema",
        '<invoke name="ping"><parameter name="n">null</parameter><parameter name="x">-0.5'
        "</parameter></invoke>",
        None,
        [("ping", {"n": "null", "x": "-0.5"})],
        tools=[*TOOLS, PING],
    ),
    Sample(
        "claude-xml-dsml-flag-without-schema",
        '<｜DSML｜invoke name="ping"><｜DSML｜parameter name="opts" string="false">{"a": 1}'
        '</｜DSML｜parameter><｜DSML｜parameter name="n" string="true">5</｜DSML｜parameter>'
        "</｜DSML｜invoke>",
        None,
        [("ping", {"opts": {"a": 1}, "n": "5"})],
        tools=[*TOOLS, PING],
    ),
    # Mixed dialects in one answer, text between calls kept
    Sample(
        "mixed",
        'A <tool_call>{"name": "search", "arguments": {"q": "1"}}</tool_call> B '
        '<invoke name="search"><parameter name="q">2</parameter></invoke> C',
        "A  B  C",
        [("search", {"q": "1"}), ("search", {"q": "2"})],
    ),
]
