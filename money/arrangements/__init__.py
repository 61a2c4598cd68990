"""Payment arrangements: installment plans (schedule, policy, costs) and promises to pay.

Pure schedule and policy arithmetic lives in `schedule`, free-text reading of amounts and
dates in `parsing`, database work in `service`; the Rasa actions only glue them together.
"""
