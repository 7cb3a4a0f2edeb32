"""The streaming engine: text, places, documents, the edit pump and post-processing.

Pure or nearly: no pygls and no google-genai here (tests/test_layers.py checks it).
"""
