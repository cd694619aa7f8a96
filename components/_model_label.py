"""How a model is named in rows and decisions: its registry name and version, or its message.

``model.get`` and ``model.register`` tag the fitted estimator they emit with where it sits
in the registry. A scorer writes :func:`model_label` of the model that answered into each
row's ``model`` column (and the model's message id into ``model_message``), so that
``scored-by``, the monitor and the supervisor can say which model answered.
"""

from __future__ import annotations

from typing import Any

REGISTRY_ATTR = "_edgewise_registry"
MODEL_COLUMN = "model"
MODEL_MESSAGE_COLUMN = "model_message"


def tag_model(model: Any, name: str, version: int) -> Any:
    """Mark ``model`` as version ``version`` of the registered model ``name``; returns it."""
    setattr(model, REGISTRY_ATTR, {"name": name, "version": int(version)})
    return model


def registry_tag(model: Any) -> tuple[str, int] | None:
    """The ``(name, version)`` that ``model`` was tagged with, or None if it is unregistered."""
    tag = getattr(model, REGISTRY_ATTR, None)
    if isinstance(tag, dict) and isinstance(tag.get("name"), str):
        return tag["name"], int(tag["version"])
    return None


def model_label(model: Any, message_id: int | None) -> str:
    """``"<name>:<version>"`` for a registered model, else ``"#<message id>"``.

    Args:
        model: the fitted estimator.
        message_id: the id of the message that carried it into the node (from
            ``runtime.call_context()``), or None when it is not known.
    """
    tag = registry_tag(model)
    if tag is not None:
        return f"{tag[0]}:{tag[1]}"
    return f"#{message_id}" if message_id is not None else "#?"
