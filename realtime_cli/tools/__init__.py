"""The tools around sessions: ``rtc doctor``, ``rtc replay``, ``rtc export``."""
