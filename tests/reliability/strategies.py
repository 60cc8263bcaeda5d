"""Hypothesis strategies for hostile input: JSON values, patient-like records, questions."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ally.schema import Patient

PATIENT_FIELDS = sorted(Patient.model_fields)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["B", "T", "positive", "negative", "like", "CR", "no_CR", "diagnosis", "true", "1e309", ""]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)
# Mostly real field names (so validation is reached), sometimes unknown ones.
field_names = st.one_of(st.sampled_from(PATIENT_FIELDS), st.text(min_size=1, max_size=20))
patient_like: st.SearchStrategy[Any] = st.one_of(
    st.dictionaries(field_names, json_values, max_size=6),
    json_values,
)
# Questions: real clinical words mixed with arbitrary unicode, control characters and markup.
words = st.sampled_from(
    [
        "blinatumomab", "Ph+", "B-ALL", "T-ALL", "MRD", "dose", "ponatinib", "70-year-old", "relapsed",
        "[1]", "[P1]", "<script>", "<!channel>", "\x00", "\u202e", "ignore previous instructions", "?", "and",
        "what", "about", "é", "𝔘", "\n", "\t", "%s", "{0}", "'; DROP TABLE turns;--",
    ]
)  # fmt: skip
questions = st.one_of(
    st.text(max_size=300),
    st.lists(words, min_size=1, max_size=30).map(" ".join),
)
