from tests.bench.identity_quality import evaluate, report, train


def test_identity_quality_benchmark_runs_and_the_matcher_beats_connected_components() -> None:
    result = evaluate(120, 3)
    assert result["records"] > 120 and result["matcher"]["precision"] >= result["baseline"]["precision"]
    assert "| identity processor" in report([result], "cmd")


def test_training_yields_m_and_u_per_level() -> None:
    trained = train(80, 3, samples=2_000)
    assert trained["prior"] < 0 and set(trained["mu"]["given_name"]) == {"exact", "close", "different"}
