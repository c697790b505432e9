"""A review: the LLM interviewer's feedback on a graded design, or the rule interviewer's when it cannot give one.

``review`` makes one Chat Completions call (through ``transport``) asking for a structured
``Assessment``, asks once more when the reply is unusable, and merges the answer into the
rule interviewer's ``Feedback`` with the score computed in code (``scoring``). Any failure
(timeout, refusal, invalid JSON twice, HTTP errors after bounded retries...) gives
``status="unavailable"`` with a reason and the rule interviewer's text: ``review`` never
raises for LLM problems.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from simulator.feedback.answer import Assessment, CategoryItem
from simulator.feedback.config import GraderConfig, grader_config
from simulator.feedback.feedback import Feedback
from simulator.feedback.parsing import parse_assessment
from simulator.feedback.prompt import Prompt, build_prompt
from simulator.feedback.redaction import scrub
from simulator.feedback.rule_interviewer import rule_feedback
from simulator.feedback.scoring import final_score, interviewer_adjustment
from simulator.feedback.text import shorten
from simulator.feedback.transport import FORMATS, FormatChanged, Progress, Reply, ReviewFailed, Session, make_client
from simulator.feedback.usage import estimate_cost
from simulator.grading.rubric import Report
from simulator.model.design import Design
from simulator.model.scenario import Scenario

log = logging.getLogger(__name__)

INVALID_JSON = "invalid JSON"


def _usable(session: Session, reply: Reply) -> Assessment | tuple[str, str]:
    """The reply's assessment, or (problem, kind) when it is not usable; refusals end the review."""
    if reply.refusal:
        raise ReviewFailed(f"the model refused: {shorten(session.scrub(reply.refusal), 200)}")
    if reply.finish_reason == "content_filter":
        raise ReviewFailed("the provider's content filter blocked the reply")
    content = reply.content or ""
    if not content.strip():
        return "the reply was empty", "empty reply"
    try:
        return parse_assessment(content)
    except ValueError as exc:
        if reply.finish_reason == "length":
            return (f"the reply was cut off at the token limit ({session.config.max_tokens})",
                    "reply cut off at the token limit")
        return str(exc), INVALID_JSON


def _give_up(session: Session, problems: list[str], kinds: list[str]) -> ReviewFailed:
    """Two unusable replies: the reason for the user."""
    if kinds[0] == kinds[1]:
        return ReviewFailed(f"{kinds[0]} twice" + (f" ({shorten(session.scrub(problems[1]), 200)})"
                                                   if kinds[0] == INVALID_JSON else ""))
    return ReviewFailed(f"no usable reply: {shorten(session.scrub(problems[0]), 120)}; "
                        f"then {shorten(session.scrub(problems[1]), 120)}")


def _reask(problem: str, kind: str, content: str) -> list[dict[str, str]]:
    """The messages that ask once more after an unusable reply."""
    again = (f"That reply was not usable: {shorten(problem, 300)}. Reply again with only the JSON object "
             "described above, every field present, every string short.")
    if kind == INVALID_JSON:   # show the model what it wrote, so it can fix it
        return [{"role": "assistant", "content": content[:1500]}, {"role": "user", "content": again}]
    return [{"role": "user", "content": again}]   # an empty or cut-off reply is not worth its context


def _ask(session: Session, design: Design, scenario: Scenario | None, report: Report,
         notes: Mapping[str, str] | None, estimates: Mapping[str, Any] | None) -> tuple[Assessment, Prompt]:
    """The model's assessment and the prompt that got it: a new prompt on a format change, one re-ask."""
    problems: list[str] = []
    kinds: list[str] = []
    format_changes = 0
    prompt = build_prompt(design, scenario, report, notes, estimates, schema_in_prompt=session.schema_in_prompt())
    extra: list[dict[str, str]] = []
    while True:
        messages = prompt.messages + extra
        chars = sum(len(m["content"]) for m in messages)
        session.emit("start", f"asking {session.config.model} at {session.config.host} "
                              f"({session.format_name}, about {prompt.tokens} prompt tokens)")
        try:
            reply = session.request(messages, chars)
        except FormatChanged:
            format_changes += 1
            if format_changes > len(FORMATS):
                raise ReviewFailed("the server keeps rejecting the response format") from None
            prompt = build_prompt(design, scenario, report, notes, estimates,
                                  schema_in_prompt=session.schema_in_prompt(), tag=prompt.tag)
            extra = []
            continue
        verdict = _usable(session, reply)
        if isinstance(verdict, Assessment):
            return verdict, prompt
        problem, kind = verdict
        problems.append(problem)
        kinds.append(kind)
        if len(problems) >= 2:
            raise _give_up(session, problems, kinds)
        session.emit("reask", f"{problem}; asking once more")
        extra = _reask(problem, kind, reply.content or "")


def _merge(base: Feedback, assessment: Assessment, design: Design, config: GraderConfig, session: Session,
           prompt: Prompt) -> Feedback:
    """The rule interviewer's feedback with the model's text, ratings and the adjusted score."""
    known_ids = set(design.ids)
    rated: dict[str, CategoryItem] = {}
    for item in assessment.categories:
        if item.category in {c["category"] for c in base.categories} and item.category not in rated:
            rated[item.category] = item
    categories = []
    for c in base.categories:
        found = rated.get(c["category"])
        categories.append({**c, "rating": found.score if found else None,
                           "comment": found.comment if found else c["comment"]})
    ratings = [i.score for i in rated.values()] + [assessment.communication_score, assessment.trade_offs_score]
    adjustment = interviewer_adjustment(ratings)
    gaps = [{"text": g.text, "node_ids": [n for n in g.node_ids if n in known_ids]} for g in assessment.gaps]
    usage = session.usage
    cost = estimate_cost(config.model, usage.prompt_tokens, usage.completion_tokens) if config.is_openai else None
    rules = {k: getattr(base, k) for k in ("summary", "strengths", "gaps", "follow_up_questions")}
    return replace(
        base, status="ok", reason=None, grader=f"llm:{config.model}"[:100], model=config.model,
        summary=assessment.summary, strengths=list(assessment.strengths), gaps=gaps,
        follow_up_questions=list(assessment.follow_up_questions), categories=categories,
        communication={"score": assessment.communication_score, "comment": assessment.communication_comment},
        trade_offs={"score": assessment.trade_offs_score, "comment": assessment.trade_offs_comment},
        hire_signal=assessment.hire_signal, reasoning=assessment.reasoning, adjustment=adjustment,
        final_score=final_score(base.rule_score, adjustment), usage=usage, cost_usd=cost, host=config.host,
        response_format=session.format_name, notes_truncated=prompt.notes_truncated,
        prompt_tokens_estimate=prompt.tokens, elapsed_s=round(time.monotonic() - session.start, 3),
        rule_feedback=rules,
    )


def review(design: Design, scenario: Scenario | None, report: Report, notes: Mapping[str, str] | None = None,
           estimates: Mapping[str, Any] | None = None, *, config: GraderConfig | None = None, client: Any = None,
           on_progress: Callable[[Progress], None] | None = None, stream: bool | None = None) -> Feedback:
    """Feedback on a graded design: the LLM's when configured and working, else the rule grader's.

    Never raises for LLM problems: they give ``status="unavailable"`` and a reason, with the
    rule grader's text and the rule score. ``stream`` defaults to True when ``on_progress``
    is given; progress events carry text deltas and a running token estimate.
    """
    base = rule_feedback(design, scenario, report, notes, estimates)
    config = config or grader_config()
    if not config.llm:
        base.reason = config.note
        return base
    stream = (on_progress is not None) if stream is None else stream
    started = time.monotonic()
    session: Session | None = None
    try:
        session = Session(client or make_client(config), config, list(report.categories), design.ids, stream,
                          on_progress)
        assessment, prompt = _ask(session, design, scenario, report, notes, estimates)
        feedback = _merge(base, assessment, design, config, session, prompt)
        session.emit("done", f"feedback from {config.model}", tokens=session.usage.completion_tokens)
        return feedback
    except ReviewFailed as exc:
        reason = scrub(exc, config.api_key)
    except Exception as exc:  # anything else from the SDK or a server: never crash the page
        reason = scrub(f"unexpected error: {type(exc).__name__}: {shorten(str(exc), 200)}", config.api_key)
        log.warning("LLM review failed: %s", reason)
    usage = session.usage if session is not None and session.usage.total_tokens else None
    base.status, base.reason, base.model, base.host = "unavailable", reason, config.model, config.host
    base.usage = usage
    base.elapsed_s = round(time.monotonic() - started, 3)
    if session is not None:
        session.emit("done", f"LLM feedback unavailable: {reason}")
    return base
