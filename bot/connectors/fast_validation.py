"""Rasa 3.6 validates every action-server and NLG response with `jsonschema.validate()`, which
first re-checks the schema itself against the JSON Schema meta-schema: ~40 ms of CPU per action
call, ~40 % of Rasa's CPU in our benchmark (tools/bench). Same checks and messages here, with each
validator built once. Applied when the gateway connector is loaded (bot/credentials.yml), so only
our Rasa process is affected.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

from rasa.core.actions.action import RemoteAction
from rasa.core.nlg import callback
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.exceptions import RasaException

_validators: Dict[str, Any] = {}


def _validator(name: str, schema: Dict[Text, Any]) -> Any:
    validator = _validators.get(name)
    if validator is None:
        cls = validator_for(schema)
        cls.check_schema(schema)  # once, not on every response
        validator = _validators[name] = cls(schema)
    return validator


def _check(name: str, schema: Dict[Text, Any], instance: Any) -> None:
    """As `jsonschema.validate`: raise the most relevant error, if any."""
    error = best_match(_validator(name, schema).iter_errors(instance))
    if error is not None:
        raise error


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    try:
        _check("action", self.action_response_format_spec(), result)
        return True
    except ValidationError as e:
        e.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise e


def _validate_nlg_response(content: Optional[Dict[Text, Any]]) -> bool:
    if content is None or content == "":
        return True  # the endpoint did not want to respond with anything
    try:
        _check("nlg", callback.nlg_response_format_spec(), content)
        return True
    except ValidationError as e:
        raise RasaException(
            f"{e.message}. Failed to validate NLG response from API, make sure "
            f"your response from the NLG endpoint is valid."
        )


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    callback.CallbackNaturalLanguageGenerator.validate_response = staticmethod(  # type: ignore[method-assign]
        _validate_nlg_response
    )
