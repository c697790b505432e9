"""Rule vocabulary of rubric checks, evaluated on the design's directed graph.

A rule is a one-key mapping: the key is the operator, the value its arguments.

    present:    {kind: [cache, cdn], min: 1, max: null}
    edge:       {from: service, to: monitoring, quantifier: some|every, edges: [sync, async]}
    reaches:    {from: client, to: llm, quantifier: some|every, edges: [...]}
    via:        {from: client, to: llm, through: cache, quantifier: some|every, lookaside: false}
    fallback:   {target: [llm, model_server], alternatives: [...], quantifier: every|some}
    no_spof:    {from: client, to: model_server, min_replicas: 2, include_endpoints: false}
    scaled:     {kind: service, min_replicas: 2, autoscale_counts: true, quantifier: every|some}
    balanced:   {kind: [service, model_server], by: [load_balancer]}
    decoupled:  {producer: service, consumer: trainer, through: [queue, stream], async_edges: true}
    simulate:   {max_utilization: 0.8, load: 1.0, survives_single_failure_of: [...], min_served_share: 0.99}
    all: [rule, ...]   any: [rule, ...]   not: rule

Every kind list is checked against the catalog when the rubric loads. Every outcome carries evidence
(what was found or missing, offending node ids in a stable order, one example path where it helps),
whether it passed or not.

Modules: one per operator (``present``, ``edge``, ``reaches``, ``via``, ``fallback``, ``no_spof``,
``scaled``, ``balanced``, ``decoupled``, ``simulated``), ``registry`` (the table of them by name),
``parse`` (Rule, the combinators, parse_rule), ``schema`` (the JSON Schema of a rule), ``feasibility``
(rules no design can pass), ``context`` (Context, Outcome), ``arguments`` (the operators' base and field
types), and the helpers ``between``, ``walks`` and ``evidence``.
"""
