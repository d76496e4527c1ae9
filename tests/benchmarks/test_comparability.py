"""The comparability statement: same model, workload, precision and hardware, or which of them differ."""

from __future__ import annotations

from apps.benchmarks.comparability import RunContext, comparability

LLAMA = "Llama 3 70B Instruct"
SEED = [
    RunContext(LLAMA, precision="FP16", hardware="8x H100"),
    RunContext(LLAMA, precision="FP16", hardware="8x H100"),
    RunContext(LLAMA, precision="INT4", hardware="8x H100"),
    RunContext(LLAMA, precision="", hardware="~40x Groq LPU"),
]


def test_it_says_the_seed_table_differs_in_precision_and_hardware() -> None:
    verdict = comparability(SEED)
    assert not verdict.comparable
    assert verdict.differences == ("precision differs: FP16 vs INT4 vs not stated",
                                   "hardware differs: 8x H100 vs ~40x Groq LPU")
    assert verdict.statement == ("no: precision differs: FP16 vs INT4 vs not stated; "
                                 "hardware differs: 8x H100 vs ~40x Groq LPU")


def test_it_calls_runs_with_everything_in_common_comparable_and_names_what_they_share() -> None:
    verdict = comparability(SEED[:2])
    assert verdict.comparable
    assert verdict.statement == "yes: same model (Llama 3 70B Instruct), precision (FP16) and hardware (8x H100); " \
                                "workload not stated"


def test_it_never_calls_an_unstated_precision_the_same_as_a_stated_one() -> None:
    verdict = comparability([RunContext(LLAMA, precision="FP16"), RunContext(LLAMA)])
    assert not verdict.comparable
    assert verdict.differences == ("precision differs: FP16 vs not stated",)


def test_it_names_differing_workloads_and_models() -> None:
    verdict = comparability([RunContext("Llama 2 7B Chat", workload=(550, 150, 5)),
                             RunContext("Llama 2 70B Chat", workload=(550, 150, 5)),
                             RunContext("Llama 2 70B Chat")])
    assert verdict.differences == ("model differs: Llama 2 70B Chat vs Llama 2 7B Chat",
                                   "workload differs: 550 in / 150 out tokens, 5 concurrent vs not stated")


def test_it_says_what_no_run_states_instead_of_claiming_a_match() -> None:
    verdict = comparability([RunContext(LLAMA, workload=(550, 150, 5))] * 2)
    assert verdict.comparable
    assert verdict.statement == ("yes: same model (Llama 3 70B Instruct) and workload (550 in / 150 out tokens, "
                                 "5 concurrent); precision and hardware not stated")


def test_no_runs_are_not_comparable() -> None:
    assert not comparability([]).comparable
