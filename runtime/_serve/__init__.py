"""Serving a flow over HTTP: the hub between requests and the flow, the app, the server.

- :mod:`runtime._serve.hub`: ``ServingHub`` (endpoints, admission, answers exactly once),
  ``EndpointConfig`` and ``serving_hub()``, through which ``http.in``/``http.out`` reach it.
- :mod:`runtime._serve.lineage`: which requests each message came from (500 on errors).
- :mod:`runtime._serve.body`: request bodies to rows, checked against a schema.
- :mod:`runtime._serve.metrics`: request metrics and the Prometheus text of ``/metrics``.
- :mod:`runtime._serve.app`: the FastAPI app (routes, ``/health``, ``/metrics``, token).
- :mod:`runtime._serve.server`: ``FlowServer``, which runs the flow and the app until
  stopped, and ``Deployment``, one running version of the flow (``switch`` redeploys).
- :mod:`runtime._serve.deploys`: the version serving, and the deploy and refusal counters.
- :mod:`runtime._serve.watch`: ``FlowWatcher``, which redeploys each saved version of the
  flow file that validates (``edgewise serve --watch``).
"""

from runtime._serve.hub import (
    ENDPOINT_TAG,
    Endpoint,
    EndpointConfig,
    Refused,
    Request,
    ServingHub,
    serving_hub,
)
from runtime._serve.lineage import ANSWER_TAG, RequestLineage
from runtime._serve.server import Deployment, FlowServer, ServeOutcome, bind, endpoint_configs

__all__ = ["ANSWER_TAG", "ENDPOINT_TAG", "Deployment", "Endpoint", "EndpointConfig", "FlowServer",
           "Refused", "Request", "RequestLineage", "ServeOutcome", "ServingHub", "bind",
           "endpoint_configs", "serving_hub"]
