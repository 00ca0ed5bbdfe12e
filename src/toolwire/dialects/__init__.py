"""Provider dialects: export to each provider's tool schema, and parsing of its native
responses and streams (``toolwire.dialects.openai``, ``anthropic``, ``gemini``, ``responses``)."""

__all__: list[str] = []
