"""Written interviewer feedback on a graded design: the rule interviewer, and the LLM interviewer through ``openai``.

Two interviewers give the same ``Feedback``: ``rule_interviewer.rule_feedback`` (offline,
instant, deterministic) and ``review.review`` (one Chat Completions call for a structured
assessment; on any failure the rule interviewer's text with ``status="unavailable"`` and a
reason). The model moves the rubric score only through the interviewer adjustment
(``scoring``) and never changes a check's verdict. Nothing here imports Streamlit.

Modules, each importing only those above it (no cycles)::

    text          short one-line text for prompts and messages
    redaction     Secret and scrub: the API key in no output
    usage         token usage (reported or estimated) and its cost
    scoring       interviewer adjustment and final score
    answer        the Assessment the model returns and its strict JSON schema
    config        GraderConfig from the environment and secrets.toml      -> redaction
    parsing       reply text -> Assessment                                 -> answer, text
    feedback      the Feedback result and its plain text                   -> scoring, usage
    rule_interviewer  feedback from the rubric report alone                -> feedback, scoring, text
    prompt        the messages of one review within a token budget         -> answer, text, usage
    transport     openai calls: formats, streaming, retries, deadline     -> answer, config, redaction, text, usage
    review        ask, re-ask, merge into Feedback; never raises           -> all of the above
"""
