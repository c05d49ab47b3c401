from tests.bench.identity_quality import evaluate, report, train


def test_identity_quality_benchmark_runs_and_the_matcher_beats_connected_components() -> None:
    result = evaluate(120, 3)
    assert result["records"] > 120 and result["matcher"]["precision"] >= result["baseline"]["precision"]
    assert "| identity processor" in report([result], "cmd")


def test_training_yields_m_and_u_per_level() -> None:
    trained = train(80, 3, samples=2_000)
    assert trained["prior"] < 0 and set(trained["mu"]["given_name"]) == {"exact", "close", "different"}
    # levels the table leaves out (an address line "elsewhere": 0 bits by design): [pairs of one person, random pairs]
    assert all("missing" not in levels for levels in trained["untrained_levels"].values())
    assert all(len(counts) == 2 for levels in trained["untrained_levels"].values() for counts in levels.values())


def test_twins_get_another_real_name_by_default_and_a_typing_slip_on_request() -> None:
    import random

    from processors.identity.matching.given_names import distinct, folded
    from tests.bench.identity_people import real_twin_name, slip_twin_name

    for given in ("Jean", "Marie", "Louis"):
        twin = real_twin_name(random.Random(1), given)
        assert twin is not None and distinct(folded(twin), folded(given))
    slip = slip_twin_name(random.Random(1), "Lucy")
    assert slip is not None and not distinct(folded(slip), "lucy")
    for names in ("real", "slip"):
        result = evaluate(120, 3, twins=4, twin_names=names)
        assert result["twins"] == 4 and "Twins:" in report([result], "cmd")


def test_namesakes_share_a_persons_full_name_and_birth_date_and_nothing_else() -> None:
    from tests.bench.identity_people import population

    persons, records = population(120, 3, namesakes=4)
    namesakes = [p for p in persons if p.namesake_of is not None]
    assert len(namesakes) == 4
    for namesake in namesakes:
        original = persons[namesake.namesake_of]
        assert (namesake.given, namesake.family, namesake.birth) == (original.given, original.family, original.birth)
        assert not {namesake.phone, namesake.email, namesake.user_id, *namesake.accounts} & {
            original.phone, original.email, original.user_id, *original.accounts}
        assert any(r.person == namesake.pid for r in records)
    result = evaluate(120, 3, namesakes=4)
    assert (result["namesakes"], result["twins"]) == (4, 0) and "Namesakes:" in report([result], "cmd")


def test_namesakes_on_the_persons_line_live_in_another_town() -> None:
    from tests.bench.identity_people import population

    plain, _ = population(120, 3, namesakes=4)
    persons, _ = population(120, 3, namesakes=4, namesake_line=True)
    for namesake, before in zip([p for p in persons if p.namesake_of is not None],
                                [p for p in plain if p.namesake_of is not None], strict=True):
        original = persons[namesake.namesake_of]
        assert namesake.address == original.address and namesake.postcode == before.postcode != original.postcode
