"""The interactive console: the prompt-toolkit glue (``terminal``), the console without a
terminal (``shell``), its commands (``actions``) and its grammar (``parse``, ``command_table``)."""
