"""Roles: what a component does in a design, whatever box it was drawn as.

A node's roles are its kind, the kinds and roles its label and id name (read through the lexicon
below: "online feature store" on a Redis box makes it a feature store as well as a cache), and the
roles it declares in an explicit ``roles: [...]`` property. Rules match roles, never bare kinds, so a
design drawn in the candidate's own vocabulary is judged on what its boxes do. Each role remembers
what gave it (the kind, a word of the label or id, the property) so evidence can say why.

The lexicon is documented in docs/authoring.md ("Roles"). It is deliberately conservative:
- a phrase counts on word boundaries, plurals included ("chargebacks", "rankers");
- a computing role (model, ranker, trainer...) does not count when the phrase only qualifies what
  follows it, a data noun or another role ("inference logs", "training data", "ranker training" and
  "LLM orchestrator" are not the computation they name);
- generic words ("api", "app", "server", "model") never give a role: only the kind does.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from simulator.model import catalog
from simulator.suggest import nearest

# Roles that are not catalog kinds: concepts a rule asks about that no single box kind holds.
EXTRA_ROLES: Mapping[str, str] = MappingProxyType({
    "rules_engine": "deterministic rules, heuristics or block lists that decide without a model",
    "ranking": "orders candidates by a learned score (ranker, re-ranker)",
    "candidate_generation": "narrows a large catalog to a few hundred candidates (retrieval, ANN, two-tower)",
    "retrieval": "finds documents or items by similarity or search (RAG retriever, vector search)",
    "shadow": "receives a copy of live traffic but does not serve the answer (shadow mode)",
    "router": "chooses which model or provider answers a request",
    "memory": "keeps conversation or session state between requests",
    "trigger": "decides which data is worth collecting (trigger classifiers, campaigns, active learning)",
    "fusion": "combines several sensors into one view of the world",
    "planning": "turns perception into actions (planning, control, actuation)",
    "cold_start": "answers for new users or items without history (popular, trending, content-based)",
    "human_review": "people who review cases or label data (analysts, reviewers, case management)",
    "rollback": "returns serving to a previous known-good model version",
})

# Roles whose phrase does not count when it only qualifies a data noun that follows it.
_COMPUTING = frozenset({"model_server", "ranking", "candidate_generation", "trainer", "stream_processor",
                        "batch_processor", "rules_engine", "router", "llm", "retrieval", "planning"})
_DATA_NOUNS = frozenset({"log", "logs", "data", "dataset", "datasets", "event", "events", "metric", "metrics",
                         "table", "tables", "history", "record", "records", "snapshot", "snapshots", "topic",
                         "archive", "result", "results", "output", "outputs", "score", "scores", "feature",
                         "features", "response", "responses", "label", "labels", "sample", "samples", "set", "sets",
                         "baseline", "baselines", "variant", "variants"})
# Nouns after any phrase that make it a qualifier: "cache misses" are not a cache.
_QUALIFIED = frozenset({"miss", "misses", "hit", "hits", "invalidation", "warming", "ttl", "ttls", "key", "keys"})

# Catalog aliases too generic to say what a box does: only the kind itself gives these.
_GENERIC_ALIASES = frozenset({"user", "browser", "mobile", "app", "api", "microservice", "backend", "server",
                              "model", "db", "edge", "vehicle", "registry", "training", "warehouse",
                              "metrics", "logs", "gateway", "blob", "ray", "argo", "beam", "throttle",
                              "openai", "gpt", "llama", "task_queue", "drift", "canary", "shadow",
                              "experimentation", "ab_test", "annotation", "guardrail", "moderation"})

# Kinds that do the serving work, and so may gain serving roles from their words. Words on routers,
# pipes and stores name what passes through them ("experiment assignment -> ranker variant").
_SERVING = frozenset({"model_server", "ranking", "candidate_generation", "llm", "rules_engine", "router",
                      "retrieval", "planning", "fusion", "vector_db", "feature_store", "cache", "memory",
                      "cold_start", "guardrails", "ab_testing"})
_SERVES = frozenset({"service", "model_server", "llm", "edge_device", "database", "cache", "vector_db",
                     "feature_store", "guardrails", "cdn", "stream_processor"})
# Offline and observing kinds gain only offline and observing roles ("chargebacks" on a warehouse).
_OFFLINE_KINDS = frozenset({"trainer", "data_warehouse", "batch_processor", "orchestrator", "experiment_tracker",
                            "model_registry", "labeling", "object_store", "logging", "monitoring", "dashboard",
                            "alerting", "drift_detector"})
_OFFLINE_ROLES = frozenset({"labeling", "human_review", "trigger", "rollback", "trainer", "data_warehouse",
                            "object_store"})
# Roles that say where a box runs: they hold even when they qualify what follows ("on-vehicle cache").
_WHERE = frozenset({"edge_device"})
# Roles a label never gives: where traffic enters.
_NEVER_FROM_WORDS = frozenset({"client", "sensor"})

# Where traffic comes from: their labels name the caller ("card network", "payment gateway"), not a role.
_ENTRY_KINDS = frozenset({"client", "sensor"})

# phrase (words separated by spaces; "*" ends a prefix) -> roles it gives
_PHRASES: dict[str, tuple[str, ...]] = {
    # features and caches
    "feature store": ("feature_store",), "online feature": ("feature_store",),
    "online features": ("feature_store",), "feature service": ("feature_store",),
    "feature server": ("feature_store",), "feature serving": ("feature_store",),
    "feature cache": ("feature_store", "cache"), "profile*": ("feature_store",),
    "in memory": ("cache",), "offline store": ("data_warehouse",),
    "cache": ("cache",), "caching": ("cache",), "semantic cache": ("cache",),
    # rules, models, ranking, retrieval
    "rules engine": ("rules_engine",), "rule engine": ("rules_engine",), "rules": ("rules_engine",),
    "rule based": ("rules_engine",), "business rules": ("rules_engine",), "heuristic*": ("rules_engine",),
    "blocklist*": ("rules_engine",), "blacklist*": ("rules_engine",), "deny list": ("rules_engine",),
    "policy engine": ("rules_engine",), "decision engine": ("rules_engine",),
    "model server": ("model_server",), "model serving": ("model_server",), "inference": ("model_server",),
    "prediction service": ("model_server",), "predictor": ("model_server",), "classifier": ("model_server",),
    "scoring model": ("model_server",), "fraud model": ("model_server",), "ml model": ("model_server",),
    "perception": ("model_server",), "detector": ("model_server",), "detection model": ("model_server",),
    "neural network": ("model_server",), "algorithm*": ("model_server",),
    "recommender*": ("model_server",), "recommendation model*": ("model_server",),
    "recommendation engine": ("model_server",), "xgboost": ("model_server",), "lightgbm": ("model_server",),
    "gbdt": ("model_server",), "gbm": ("model_server",), "tensorflow": ("model_server",),
    "pytorch": ("model_server",), "onnx": ("model_server",), "ranker": ("ranking", "model_server"),
    "re ranker": ("ranking", "model_server"), "reranker": ("ranking", "model_server"),
    "ranking": ("ranking",), "re ranking": ("ranking",), "reranking": ("ranking",), "rank": ("ranking",),
    "candidate generation": ("candidate_generation",), "candidate generator*": ("candidate_generation",),
    "candidate retrieval": ("candidate_generation",), "candidate sourcing": ("candidate_generation",),
    "candidate gen": ("candidate_generation",), "candidate source*": ("candidate_generation",),
    "candidate pool": ("candidate_generation",), "random walk*": ("candidate_generation",),
    "collaborative filter*": ("candidate_generation",), "matrix factori*": ("candidate_generation",),
    "item to item": ("candidate_generation",), "co visit*": ("candidate_generation",),
    "co watch*": ("candidate_generation",), "co engagement": ("candidate_generation",),
    "similar item*": ("candidate_generation",), "two tower": ("candidate_generation",),
    "ann": ("retrieval",), "nearest neighbo*": ("retrieval",),
    "retrieval": ("retrieval",), "retriever": ("retrieval",), "rag": ("retrieval",),
    "semantic search": ("retrieval",), "vector search": ("retrieval",), "knowledge base": ("retrieval",),
    "vector": ("vector_db", "retrieval"), "embedding index": ("vector_db", "retrieval"),
    "router": ("router",), "routing": ("router",), "model selector": ("router",),
    "llm": ("llm",), "language model": ("llm",),
    # people and labels
    "label store": ("labeling",), "label service": ("labeling",), "labeler*": ("labeling",),
    "labeling": ("labeling",), "labelling": ("labeling",), "labelled by": ("labeling",),
    "auto label*": ("labeling",), "annotat*": ("labeling",), "ground truth": ("labeling",),
    "chargeback*": ("labeling",), "dispute*": ("labeling",), "fraud report*": ("labeling",),
    "outcome*": ("labeling",), "actuals": ("labeling",),
    "analyst*": ("labeling", "human_review"), "reviewer*": ("labeling", "human_review"),
    "manual review": ("labeling", "human_review"), "human review": ("labeling", "human_review"),
    "review queue": ("human_review", "queue"), "case management": ("labeling", "human_review"),
    "human in the loop": ("labeling", "human_review"),
    # experiments and release
    "a b": ("ab_testing",), "ab test*": ("ab_testing",), "experiment": ("ab_testing",),
    "experiments": ("ab_testing",), "experimentation": ("ab_testing",), "canary": ("ab_testing",),
    "shadow": ("ab_testing", "shadow"), "champion": ("ab_testing",), "challenger": ("ab_testing",),
    "traffic split*": ("ab_testing",), "staged rollout": ("ab_testing",), "gradual rollout": ("ab_testing",),
    "progressive rollout": ("ab_testing",), "progressive delivery": ("ab_testing",),
    "staged release": ("ab_testing",), "phased rollout": ("ab_testing",), "early access": ("ab_testing",),
    "dogfood*": ("ab_testing",), "beta fleet": ("ab_testing",), "ring deployment*": ("ab_testing",), "interleaving": ("ab_testing",), "bandit*": ("ab_testing",),
    "rollback": ("rollback",), "roll back": ("rollback",), "last known good": ("rollback",),
    "schema registry": (), "container registry": (), "image registry": (),
    "model registry": ("model_registry",), "registry": ("model_registry",), "model store": ("model_registry",),
    "model repository": ("model_registry",),
    "experiment tracking": ("experiment_tracker",), "experiment tracker": ("experiment_tracker",),
    "training": ("trainer",), "trainer": ("trainer",), "retraining": ("trainer",), "retrain*": ("trainer",),
    "fine tun*": ("trainer",),
    "orchestrat*": ("orchestrator",), "scheduler": ("orchestrator",), "workflow*": ("orchestrator",),
    # data movement and storage
    "event stream": ("stream",), "event bus": ("stream",), "event log": ("stream",), "pub sub": ("stream",),
    "message bus": ("stream",), "data stream": ("stream",), "event streams": ("stream",),
    "queue": ("queue",), "queues": ("queue",),
    "stream processing": ("stream_processor",), "stream processor": ("stream_processor",),
    "streaming job*": ("stream_processor",), "streaming pipeline": ("stream_processor",),
    "streaming aggregat*": ("stream_processor",), "real time aggregat*": ("stream_processor",),
    "batch job*": ("batch_processor",), "etl": ("batch_processor",), "batch processing": ("batch_processor",),
    "batch pipeline": ("batch_processor",), "batch inference": ("batch_processor",),
    "data lake": ("data_warehouse",), "lakehouse": ("data_warehouse",), "data warehouse": ("data_warehouse",),
    "hive": ("data_warehouse",), "delta lake": ("data_warehouse",),
    "object store": ("object_store",), "object storage": ("object_store",), "blob storage": ("object_store",),
    "bucket": ("object_store",), "database": ("database",),
    # observability
    "monitoring": ("monitoring",), "monitor": ("monitoring",), "metrics": ("monitoring",),
    "observability": ("monitoring",), "slo*": ("monitoring",),
    "alert*": ("alerting",), "pager*": ("alerting",), "on call": ("alerting",),
    "dashboard*": ("dashboard",), "logging": ("logging",), "logs": ("logging",), "log store": ("logging",),
    "audit log": ("logging",), "audit trail": ("logging",),
    "drift": ("drift_detector",), "distribution shift": ("drift_detector",), "data quality": ("drift_detector",),
    # safety and access
    "guardrail*": ("guardrails",), "moderation": ("guardrails",), "safety filter": ("guardrails",),
    "content filter": ("guardrails",), "pii": ("guardrails",), "toxicity": ("guardrails",),
    "jailbreak": ("guardrails",), "load balancer": ("load_balancer",), "load balancing": ("load_balancer",),
    "api gateway": ("api_gateway",), "gateway": ("api_gateway",), "authentication": ("auth",),
    "auth": ("auth",), "rate limit*": ("rate_limiter",), "throttl*": ("rate_limiter",),
    # vehicles and sensors
    "on vehicle": ("edge_device",), "onboard": ("edge_device",), "on board": ("edge_device",),
    "in car": ("edge_device",), "in vehicle": ("edge_device",), "on device": ("edge_device",),
    "fusion": ("fusion",), "planning": ("planning",), "planner": ("planning",), "control": ("planning",),
    "controls": ("planning",), "actuat*": ("planning",),
    "trigger*": ("trigger",), "data collection": ("trigger",), "campaign*": ("trigger",),
    "active learning": ("trigger",), "edge case*": ("trigger",),
    # conversations and recommendations
    "memory": ("memory",), "conversation history": ("memory",), "chat history": ("memory",),
    "session store": ("memory",), "conversation state": ("memory",), "session state": ("memory",),
    "cold start": ("cold_start",), "popular": ("cold_start",), "popularity": ("cold_start",),
    "trending": ("cold_start",), "top items": ("cold_start",), "editorial": ("cold_start",),
    "content based": ("cold_start",),
}


def _phrase_table() -> dict[str, tuple[str, ...]]:
    """The curated phrases, plus every kind's name and display name and its specific product aliases."""
    table = dict(_PHRASES)
    for kind in catalog.KINDS.values():
        if kind.name in _ENTRY_KINDS or kind.name == "service":   # "service", "client": says nothing
            continue
        names = [kind.name, kind.display] + [a for a in kind.aliases if a not in _GENERIC_ALIASES]
        for name in names:
            phrase = _words(name)
            if phrase and phrase not in table:
                table[phrase] = (kind.name,)
    return table


def _words(text: str) -> str:
    """Lower-case words separated by single spaces; camelCase and snake_case are split."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _phrase_pattern(phrase: str) -> str:
    prefix = phrase.endswith("*")
    words = phrase.rstrip("*").split(" ")
    body = r" ".join(re.escape(w) for w in words)
    tail = r"[a-z0-9]*" if prefix else r"(?:s|es)?"
    return rf"(?<![a-z0-9]){body}{tail}(?![a-z0-9])"


PHRASES: Mapping[str, tuple[str, ...]] = MappingProxyType(_phrase_table())
_PRODUCT_NAMES = frozenset(_words(a) for k in catalog.KINDS.values() for a in k.aliases) - set(_PHRASES)
# "labels" alone is often an input ("quality once labels land"); at the end of a label or a clause it
# says what the box holds ("Chargebacks (labels)").
_LABELS_AT_END = re.compile(r"\blabels?\s*(?:\)|$|[,;:/])", re.IGNORECASE)
_CLAUSES = re.compile(r"[()\[\],;:|+]+|\s[-/\u2013\u2014]+\s")
_ORDERED = sorted(PHRASES, key=lambda p: (-len(p.rstrip("*")), p))
_MATCHER = re.compile("|".join(f"({_phrase_pattern(p)})" for p in _ORDERED))


def known_roles() -> list[str]:
    """Every role a rule or a ``roles`` property may name: the catalog kinds and the extra roles."""
    return [*catalog.KINDS, *EXTRA_ROLES]


def lookup_role(text: str) -> str | None:
    """The role a name stands for: a kind or alias (``redis`` -> cache), an extra role, else None."""
    if not isinstance(text, str):
        return None
    kind = catalog.lookup(text)
    if kind is not None:
        return kind
    key = catalog.normalise(text)
    return key if key in EXTRA_ROLES else None


def unknown_role_message(text: str) -> str:
    """The catalog's message for an unknown kind, naming the nearest extra role when one is close."""
    near = nearest(catalog.normalise(str(text)), list(EXTRA_ROLES), n=1)
    if near:
        return f"unknown kind or role '{text}'; did you mean the role {near[0]}?"
    return catalog.unknown_kind_message(text) + f" (roles beyond the kinds: {', '.join(EXTRA_ROLES)})"


@dataclass(frozen=True)
class RoleSet:
    """A node's roles and, for each, what gave it: ``kind``, ``roles property`` or ``label "..."``."""

    roles: frozenset[str]
    reasons: Mapping[str, str]

    def read_from_words(self) -> dict[str, str]:
        """The roles beyond the kind, with their reason (for evidence)."""
        return {r: why for r, why in self.reasons.items() if why != "kind"}


@lru_cache(maxsize=8192)
def words_roles(text: str) -> tuple[tuple[str, str], ...]:
    """(role, phrase as written) for every lexicon phrase in ``text``, in order, longest phrases first.
    Each clause (split at brackets, commas, semicolons, colons, slashes and spaced dashes) is read on
    its own, so "profiles (in memory)" is two things said, not one qualifying the other."""
    out: list[tuple[str, str]] = []
    if _LABELS_AT_END.search(text):   # "Disputes (labels)", "analyst verdicts -> labels": says what it holds
        out.append(("labeling", "labels"))
    for clause in _CLAUSES.split(text):
        out.extend(_clause_roles(_words(clause)))
    return tuple(out)


def _clause_roles(words: str) -> list[tuple[str, str]]:
    matches = [(m, _ORDERED[next(i for i, g in enumerate(m.groups()) if g is not None)])
               for m in _MATCHER.finditer(words)]
    out: list[tuple[str, str]] = []
    for k, (m, phrase) in enumerate(matches):
        after = words[m.end():].split(" ", 2)
        next_word = after[1] if len(after) > 1 and after[0] == "" else ""
        # "inference logs", "ranker training", "LLM orchestrator": the phrase qualifies what follows
        before_role = k + 1 < len(matches) and matches[k + 1][0].start() == m.end() + 1
        for role in PHRASES[phrase]:
            if (role in _COMPUTING and next_word in _DATA_NOUNS) or next_word in _QUALIFIED:
                continue
            if before_role and phrase not in _PRODUCT_NAMES and role not in _WHERE:   # "drift alerts"
                continue
            out.append((role, m.group(0)))
    return out


def node_roles(kind: str, label: str | None, node_id: str, declared: Iterable[str] = ()) -> RoleSet:
    """The roles of a node of ``kind`` with this label, id and declared ``roles``."""
    reasons: dict[str, str] = {kind: "kind"}
    for role in declared:
        reasons.setdefault(role, "roles property")
    if kind in _ENTRY_KINDS:   # "payment gateway" on a client names who calls, not a box of ours
        return RoleSet(frozenset(reasons), MappingProxyType(reasons))
    for source, text in (("label", label), ("id", node_id)):
        if not text:
            continue
        for role, phrase in words_roles(text):
            if _allowed(kind, role):
                reasons.setdefault(role, f'{source} "{phrase}"')
    return RoleSet(frozenset(reasons), MappingProxyType(reasons))


def _allowed(kind: str, role: str) -> bool:
    """Whether a node of ``kind`` may gain ``role`` from its words."""
    if role in _NEVER_FROM_WORDS:
        return False
    if kind in _OFFLINE_KINDS:
        return role in _OFFLINE_ROLES
    return role not in _SERVING or kind in _SERVES


def lexicon() -> dict[str, list[str]]:
    """Every role and the phrases of a label or id that give it ("*" ends a prefix), for people to read."""
    out: dict[str, list[str]] = {role: [] for role in known_roles()}
    for phrase in sorted(PHRASES):
        for role in PHRASES[phrase]:
            out.setdefault(role, []).append(phrase)
    return out
