"""The component catalog: every kind a design may use, its aliases and looks.

A kind has a display name, a palette group, a graphviz shape and colour, and
per-kind defaults (capacity per replica in requests/s, latency in ms, cost per
replica-hour in USD, cache hit rate) that the traffic simulation reads; a node
may override any of them. Aliases map product names to kinds (redis -> cache).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType

from simulator.suggest import nearest


@dataclass(frozen=True)
class Kind:
    name: str
    display: str
    group: str
    shape: str
    color: str
    description: str
    aliases: tuple[str, ...] = ()
    capacity: float | None = None      # requests/s one replica serves
    latency_ms: float | None = None    # added latency of one pass
    cost_per_hour: float | None = None  # USD per replica-hour
    hit_rate: float | None = None      # caches and CDNs only
    extra: dict = field(default_factory=dict)

    @property
    def managed(self) -> bool:
        """Bought as a managed, highly available, elastic service unless the design sizes it."""
        return self.name in MANAGED_KINDS


# Kinds a team rents as a managed service (API gateway, load balancer, CDN, managed streams and queues,
# object storage): highly available and elastic unless the design gives them explicit replicas.
MANAGED_KINDS = frozenset({"api_gateway", "load_balancer", "cdn", "stream", "queue", "object_store"})
# Products that are replicated clusters by construction: a box named for one is not one machine.
HA_PRODUCTS = frozenset({"cassandra", "dynamodb", "bigtable", "spanner", "scylladb", "cosmosdb", "aurora",
                         "elasticache", "memorystore", "kafka", "kinesis", "pubsub", "s3", "gcs", "couchbase",
                         "cockroachdb", "elasticsearch"})
_HA_PRODUCT = re.compile(r"(?<![a-z0-9])(?:" + "|".join(sorted(HA_PRODUCTS)) + r")(?![a-z0-9])")


def names_ha_product(text: str) -> bool:
    """Whether ``text`` names one of HA_PRODUCTS as a whole word ("Palette store (Cassandra)")."""
    return _HA_PRODUCT.search(text.lower()) is not None


GROUPS = (
    "Clients and edge",
    "Traffic and access",
    "Compute",
    "Data and storage",
    "Streaming and pipelines",
    "ML serving",
    "ML lifecycle",
    "Observability",
    "Safety and experiments",
)

_K = Kind
_KINDS: tuple[Kind, ...] = (
    # Clients and edge
    _K("client", "Client", GROUPS[0], "oval", "#e8eaf6", "A user, app or upstream system that sends requests",
       ("user", "browser", "mobile", "app"), None, 0, 0),
    _K("sensor", "Sensor", GROUPS[0], "invtriangle", "#e8eaf6", "Camera, lidar, radar or any device producing data",
       ("camera", "lidar", "radar"), None, 2, 0),
    _K("edge_device", "Edge device", GROUPS[0], "box3d", "#e8eaf6", "On-device or on-vehicle compute",
       ("vehicle", "jetson", "edge"), 400, 20, 0.5),
    _K("cdn", "CDN", GROUPS[0], "tab", "#c5cae9", "Content delivery network caching responses near users",
       ("cloudfront", "akamai", "fastly"), 100_000, 10, 0.5, 0.8),
    # Traffic and access
    _K("api_gateway", "API gateway", GROUPS[1], "hexagon", "#bbdefb", "Single entry: routing, auth, quotas",
       ("gateway", "apigee", "kong"), 5_000, 5, 0.3),
    _K("load_balancer", "Load balancer", GROUPS[1], "diamond", "#bbdefb", "Spreads requests over replicas",
       ("lb", "nginx", "envoy", "elb", "alb", "haproxy"), 20_000, 1, 0.1),
    _K("auth", "Auth", GROUPS[1], "house", "#bbdefb", "Authentication and authorisation",
       ("oauth", "iam", "keycloak", "auth0"), 3_000, 5, 0.2),
    _K("rate_limiter", "Rate limiter", GROUPS[1], "octagon", "#bbdefb", "Caps requests per caller",
       ("throttle",), 10_000, 1, 0.1),
    # Compute
    _K("service", "Service", GROUPS[2], "box", "#e3f2fd", "An application service or API",
       ("api", "microservice", "fastapi", "flask", "backend", "server"), 500, 20, 0.2),
    _K("orchestrator", "Orchestrator", GROUPS[2], "component", "#e3f2fd", "Schedules pipelines and jobs",
       ("airflow", "kubeflow", "dagster", "prefect", "argo", "vertex_pipelines"), 50, 50, 0.3),
    _K("batch_processor", "Batch processor", GROUPS[2], "box3d", "#e3f2fd", "Large offline jobs",
       ("spark", "hadoop", "dask", "beam", "emr", "databricks"), 1_000, 60_000, 2.0),
    # Data and storage
    _K("cache", "Cache", GROUPS[3], "cylinder", "#fff3e0", "In-memory key-value cache",
       ("redis", "memcached", "elasticache", "valkey"), 50_000, 1, 0.2, 0.8),
    _K("database", "Database", GROUPS[3], "cylinder", "#ffe0b2", "Operational database",
       ("db", "postgres", "postgresql", "mysql", "dynamodb", "cassandra", "bigtable", "mongodb",
        "spanner", "aurora", "scylladb"), 5_000, 5, 0.5),
    _K("object_store", "Object store", GROUPS[3], "folder", "#ffe0b2", "Blob storage for files, models, datasets",
       ("s3", "gcs", "blob", "azure_blob", "minio"), 5_000, 50, 0.05),
    _K("data_warehouse", "Data warehouse", GROUPS[3], "cylinder", "#ffcc80", "Analytical store",
       ("bigquery", "snowflake", "redshift", "warehouse", "data_lake", "lakehouse"), 100, 2_000, 2.0),
    _K("vector_db", "Vector DB", GROUPS[3], "cylinder", "#ffcc80", "Nearest-neighbour search over embeddings",
       ("vectordb", "pinecone", "weaviate", "faiss", "milvus", "qdrant", "pgvector", "chroma"), 1_000, 15, 0.6),
    _K("feature_store", "Feature store", GROUPS[3], "cylinder", "#ffcc80", "Online/offline features, one definition",
       ("feast", "tecton", "vertex_feature_store"), 10_000, 5, 0.5),
    # Streaming and pipelines
    _K("queue", "Queue", GROUPS[4], "cds", "#f3e5f5", "Work queue decoupling producers and consumers",
       ("sqs", "rabbitmq", "celery", "task_queue"), 10_000, 5, 0.1),
    _K("stream", "Stream", GROUPS[4], "cds", "#e1bee7", "Durable event log",
       ("kafka", "kinesis", "pubsub", "pulsar", "event_hub", "redpanda"), 50_000, 5, 0.3),
    _K("stream_processor", "Stream processor", GROUPS[4], "parallelogram", "#e1bee7",
       "Continuous computation over events",
       ("flink", "dataflow", "spark_streaming", "kafka_streams", "beam_streaming"), 5_000, 50, 0.8),
    # ML serving
    _K("model_server", "Model server", GROUPS[5], "box", "#c8e6c9", "Serves a trained model behind an API",
       ("triton", "torchserve", "tf_serving", "tfserving", "kserve", "seldon", "bentoml", "ray_serve",
        "vllm", "sagemaker_endpoint", "model"), 200, 30, 1.5),
    _K("llm", "LLM", GROUPS[5], "doubleoctagon", "#a5d6a7", "A large language model (hosted API or self-served)",
       ("gpt-4", "gpt-4o", "gpt", "openai", "gemini", "claude", "llama", "mistral", "small_llm"), 500, 800, 300.0),
    _K("guardrails", "Guardrails", GROUPS[5], "octagon", "#ffcdd2", "Input/output validation and safety filters",
       ("guardrail", "moderation", "safety_filter", "llama_guard"), 1_000, 20, 0.3),
    # ML lifecycle
    _K("trainer", "Trainer", GROUPS[6], "box3d", "#dcedc8", "Model training jobs",
       ("training", "ray", "horovod", "sagemaker_training"), None, None, 3.0),
    _K("model_registry", "Model registry", GROUPS[6], "folder", "#dcedc8", "Versioned models and their metadata",
       ("registry", "mlflow_registry", "vertex_model_registry"), 100, 20, 0.1),
    _K("experiment_tracker", "Experiment tracker", GROUPS[6], "note", "#dcedc8", "Runs, parameters and metrics",
       ("mlflow", "wandb", "comet", "neptune"), 100, 20, 0.1),
    _K("labeling", "Labeling", GROUPS[6], "note", "#dcedc8", "Human or programmatic labelling",
       ("labelbox", "label_studio", "annotation", "scale_ai"), None, None, 1.0),
    # Observability
    _K("monitoring", "Monitoring", GROUPS[7], "ellipse", "#fff9c4", "Metrics collection and SLOs",
       ("prometheus", "datadog", "cloudwatch", "metrics", "opentelemetry", "otel"), 100_000, 1, 0.4),
    _K("dashboard", "Dashboard", GROUPS[7], "ellipse", "#fff9c4", "Charts for humans", ("grafana", "kibana", "looker"),
       None, None, 0.1),
    _K("alerting", "Alerting", GROUPS[7], "ellipse", "#fff59d", "Pages a human when an SLO breaks",
       ("pagerduty", "opsgenie", "alertmanager"), None, None, 0.05),
    _K("logging", "Logging", GROUPS[7], "note", "#fff9c4", "Request, prediction and audit logs",
       ("elk", "elasticsearch", "loki", "splunk", "logs"), 20_000, 1, 0.2),
    _K("drift_detector", "Drift detector", GROUPS[7], "ellipse", "#fff59d",
       "Watches input and prediction distributions", ("evidently", "whylabs", "arize", "fiddler", "drift"),
       20_000, 10, 0.2),
    # Safety and experiments
    _K("ab_testing", "A/B testing", GROUPS[8], "diamond", "#ffe0b2", "Traffic split between model versions",
       ("ab_test", "experimentation", "canary", "shadow"), 10_000, 2, 0.1),
)

KINDS: MappingProxyType = MappingProxyType({k.name: k for k in _KINDS})


def normalise(text: str) -> str:
    """The key a kind, alias or role name is looked up by: lower case, spaces and hyphens as '_'."""
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def normal_form(text: str) -> str:
    """How a kind or alias is written back: lower case, spaces as '_' (hyphens kept: gpt-4)."""
    return re.sub(r"\s+", "_", text.strip().lower())


def _build_aliases() -> dict[str, str]:
    table: dict[str, str] = {}
    for kind in _KINDS:
        for name in (kind.name, *kind.aliases):
            key = normalise(name)
            if key in table and table[key] != kind.name:
                raise RuntimeError(f"catalog alias {name!r} is given to two kinds")
            table[key] = kind.name
    return table


ALIASES: MappingProxyType = MappingProxyType(_build_aliases())


def lookup(text: str) -> str | None:
    """Canonical kind for a kind name or alias (case-insensitive), else None."""
    if not isinstance(text, str):
        return None
    return ALIASES.get(normalise(text))


def suggest(text: str, limit: int = 3) -> list[str]:
    """The nearest kinds (by name or alias) to a misspelt kind."""
    key = normalise(str(text))
    names = nearest(key, ALIASES, n=limit * 3)
    out: list[str] = []
    for name in names:
        label = name if ALIASES[name] == name else f"{name} ({ALIASES[name]})"
        if label not in out:
            out.append(label)
    return out[:limit]


def unknown_kind_message(text: str) -> str:
    near = suggest(text)
    hint = f"; did you mean {', '.join(near)}?" if near else "; see `python -m simulator kinds` for the catalog"
    return f"unknown kind '{text}'{hint}"


def kinds_by_group() -> dict[str, list[Kind]]:
    out: dict[str, list[Kind]] = {g: [] for g in GROUPS}
    for kind in _KINDS:
        out[kind.group].append(kind)
    return out


def display_name(kind: str) -> str:
    return KINDS[kind].display if kind in KINDS else kind
