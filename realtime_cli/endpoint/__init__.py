"""Which endpoint, key and headers: URLs, profiles (config.toml), key sources, and how a setting
was chosen (flag > environment > profile > default)."""
