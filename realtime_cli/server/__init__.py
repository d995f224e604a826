"""The built-in local Realtime server: protocol state machine, local model, websockets glue."""
