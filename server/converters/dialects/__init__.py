"""One module per tool-call dialect: its scanner(s) and how to write a call in it."""
