"""The conversation engine: the pipeline to Rasa, the inbox queue, language, signals, abuse limits and experiments."""
