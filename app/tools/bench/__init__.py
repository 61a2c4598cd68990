"""`make bench`: the full stack against bare Rasa with the same model, under the same load."""
