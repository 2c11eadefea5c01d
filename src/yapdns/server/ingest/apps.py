"""ingest: ``POST /api/v1/ingest``, where sensors post batches of observations.

``views.py`` (routed by ``urls.py``) authenticates the sensor and decodes the
batch; the write itself is ``yapdns.ingest.IngestService``, shared with
``yapdns import``. No models of its own (sensors and their counters are the
sensors app's). Tests: ``tests/server/ingest/``.
"""

from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "yapdns.server.ingest"
    label = "yapdns_ingest"
