"""One model answer per tool-call dialect: text, then a call get_weather(city="Paris", days=3)."""

from __future__ import annotations

FENCE = "```"

REPLIES: dict[str, str] = {
    "hermes": 'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}\n</tool_call>',
    "glm45": "Let me check.\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n"
             "<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>",
    "qwen3coder": "Let me check.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
                  "<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>",
    "claude_xml": 'Let me check.\n<function_calls>\n<invoke name="get_weather">\n<parameter name="city">Paris</parameter>\n'
                  '<parameter name="days">3</parameter>\n</invoke>\n</function_calls>',
    "harmony": "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
               '{"city": "Paris", "days": 3}<|call|>',
    "llama3": '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris", "days": 3}}',
    "pythonic": "[get_weather(city='Paris', days=3)]",
    "mistral": 'Let me check.[TOOL_CALLS]get_weather{"city": "Paris", "days": 3}',
    "mistral_v3": 'Let me check.[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}]',
    "deepseek_v3": "Let me check.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n"
                   f'{FENCE}json\n{{"city": "Paris", "days": 3}}\n{FENCE}<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
    "deepseek_v31": 'Let me check.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Paris", "days": 3}'
                    "<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
    "kimi_k2": 'Let me check.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>'
               '{"city": "Paris", "days": 3}<|tool_call_end|><|tool_calls_section_end|>',
    "bare_json": 'Let me check.\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}',
}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}
