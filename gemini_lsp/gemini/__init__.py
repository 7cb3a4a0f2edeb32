"""The Gemini side: the SDK client, streaming, retries, errors, keys, prompts, attachments."""
