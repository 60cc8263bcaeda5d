"""Reading what people type (mentions, `field=value` facts, `/ally`) and the bot's small limits."""

from __future__ import annotations

import pytest

from ally.errors import InputError
from assistant.concurrency import KeyedLocks
from assistant.guards import RateLimiter
from assistant.slack.app import conversation_id_for
from assistant.slack.caches import LruMap, SeenOnce
from assistant.slack.commands import (
    clean_message_text,
    parse_pathway_args,
    parse_slash_command,
    split_question,
)
from tests.fakes import FrozenTime


def test_clean_message_text() -> None:
    raw = "<@UALLYBOT>  What about <https://nccn.org/x|NCCN> in <#C123|ward-7> &amp; &lt;65&gt;? <!here>"
    assert clean_message_text(raw) == "What about NCCN in #ward-7 & <65>?"
    assert clean_message_text("<@U1|ally> <mailto:a@b.org>") == "mailto:a@b.org"


def test_split_question_takes_only_patient_fields() -> None:
    question, patient = split_question("age=70 MRD=positive lineage=b what next? dose=5mg")
    assert question == "what next? dose=5mg"
    assert patient == {"age": 70.0, "mrd": "positive", "lineage": "B"}
    assert split_question("What is MRD?") == ("What is MRD?", {})


def test_split_question_rejects_a_bad_value_naming_the_field() -> None:
    with pytest.raises(InputError) as err:
        split_question("age=old what next?")
    assert err.value.field == "age"


def test_pathway_args() -> None:
    patient, propose = parse_pathway_args(
        "age=70 lineage=B ph=negative phase=diagnosis fit=false kmt2a=yes cd20_percent=25 response=cr "
        "propose=inotuzumab ozogamicin"
    )
    assert patient == {
        "age": 70.0,
        "lineage": "B",
        "ph": "negative",
        "phase": "diagnosis",
        "fit": False,
        "kmt2a": True,
        "cd20_percent": 25.0,
        "response": "CR",
    }
    assert propose == "inotuzumab ozogamicin"
    assert parse_pathway_args('propose="blinatumomab" age=40 lineage=T') == (
        {"age": 40.0, "lineage": "T"},
        "blinatumomab",
    )
    assert parse_pathway_args("age=40") == ({"age": 40.0}, None)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("age=70 colour=blue", "colour"),
        ("age=200", "age"),
        ("age=70 age=71", "age"),
        ("fit=perhaps", "fit"),
        ("lineage=", "lineage"),
        ("age=70 stray", "patient"),
        ("", "patient"),
        ("ph=maybe", "ph"),
        ("prior_regimens=-1", "prior_regimens"),
    ],
)
def test_pathway_args_errors_name_the_field(text: str, field: str) -> None:
    with pytest.raises(InputError) as err:
        parse_pathway_args(text)
    assert err.value.field == field


def test_parse_slash_command() -> None:
    assert parse_slash_command("").kind == "help"
    assert parse_slash_command("help").kind == "help"
    ask = parse_slash_command("What is blinatumomab &amp; when?")
    assert (ask.kind, ask.question) == ("ask", "What is blinatumomab & when?")
    pathway = parse_slash_command("Pathway age=70 lineage=B propose=ponatinib")
    assert (pathway.kind, pathway.patient, pathway.propose) == ("pathway", {"age": 70.0, "lineage": "B"}, "ponatinib")
    with pytest.raises(InputError):
        parse_slash_command("age=70")  # facts but no question


def test_conversation_id_is_per_thread() -> None:
    assert conversation_id_for("T1", "C1", "1.2") == "slack:T1:C1:1.2"
    assert conversation_id_for(None, "D1", "1.2") == "slack:-:D1:1.2"
    assert conversation_id_for("T1", "C1", "1.2") != conversation_id_for("T1", "C1", "1.3")


def test_seen_once_expires_and_is_bounded() -> None:
    clock = FrozenTime(1000.0)
    seen = SeenOnce(ttl_s=10, max_items=3, clock=clock)
    assert seen.first("a") and not seen.first("a")
    clock.advance(11)
    assert seen.first("a")
    for key in "bcd":
        assert seen.first(key)
    assert seen.first("a")  # evicted as the oldest of four


def test_rate_limiter_sliding_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot's limit (`assistant.guards.RateLimiter`) and its "tell once a window" (`SeenOnce`)."""
    clock = FrozenTime.install(monkeypatch)
    limiter = RateLimiter(3, 60)
    told = SeenOnce(ttl_s=60, clock=clock)
    assert [limiter.hit("u") for _ in range(3)] == [None, None, None]
    clock.advance(30)
    assert limiter.hit("u") == pytest.approx(30.0)
    assert limiter.hit("other") is None
    assert told.first("u") and not told.first("u")
    clock.advance(31)
    assert limiter.hit("u") is None
    assert not told.first("u")  # told 31 s ago: once per window
    clock.advance(30)
    assert told.first("u")


def test_lru_map_expiry_and_size() -> None:
    clock = FrozenTime(1000.0)
    cache: LruMap[str, int] = LruMap(max_items=2, ttl_s=5, clock=clock)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)  # "b" is least recently used
    assert cache.get("b") is None and cache.get("a") == 1
    clock.advance(6)
    assert cache.get("a") is None


def test_keyed_locks_are_per_key() -> None:
    locks = KeyedLocks()
    assert locks.get("x") is locks.get("x")
    assert locks.get("x") is not locks.get("y")
