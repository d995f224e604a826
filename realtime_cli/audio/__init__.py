"""Audio inside rtc is PCM16; codecs (G.711) convert at the edges."""
