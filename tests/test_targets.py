"""The brief's latency target, read from its own words for the Simulate panel."""
from simulator.grading.library import load_library
from simulator.model.targets import latency_target_ms


def test_the_first_bound_in_a_brief_is_its_target_in_milliseconds():
    assert latency_target_ms("p99 fraud decision < 100 ms; p99 model inference < 20 ms") == 100
    assert latency_target_ms("p95 time to first token < 1.5 s") == 1500
    assert latency_target_ms("sensor-to-objects < 50 ms p99.9 on the vehicle") == 50
    assert latency_target_ms("fast enough") is None and latency_target_ms(None) is None


def test_every_shipped_brief_states_a_target():
    lib = load_library(check_references=False)
    for sid, scenario in lib.scenarios.items():
        assert latency_target_ms(scenario.spec.scale.latency_target), sid
