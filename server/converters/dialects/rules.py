"""Wording shared by the dialects' argument rules in the tool instructions."""

JSON_ARGUMENTS = "Write the arguments as one JSON object whose keys are the argument names."
RAW_ARGUMENTS = (
    "Write each argument in its own parameter element. Write string values as raw text, "
    "with no quotes and no escaping; write numbers, booleans, arrays and objects as JSON."
)
