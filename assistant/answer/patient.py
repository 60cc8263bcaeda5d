"""Deterministic recognition of a patient described in a question (no model, no I/O).

`recognise_patient(text)` returns the contract patient fields a question states, e.g.
"a 70-year-old with Ph-negative B-ALL, comorbidities, newly diagnosed" ->
{"age": 70, "lineage": "B", "ph": "negative", "fit": False, "phase": "diagnosis"}. Only what the
text says is returned: nothing is inferred (a Ph-positive patient is not assumed to be B-lineage,
an MRD result does not imply CR). Negations are read ("no comorbidities", "not KMT2A-rearranged",
"without T315I").

`describes_patient(text)` says whether to attach a pathway result to an answer, `merge_patient`
folds a new partial record into an earlier one (conversations), `proposed_therapy` finds a
therapy the question proposes ("is inotuzumab an option ..."), and `patient_in_context` puts the
three together for one turn of a conversation.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

from ally.schema import Patient, parse_patient
from ally.vocab import Vocabulary, default_vocabulary

_NUMBER_WORDS = {
    "no": 0, "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "single": 1, "first": 1, "second": 2, "third": 3, "fourth": 4,
}  # fmt: skip
_NUM = r"(\d{1,2}|no|zero|one|two|three|four|five|six)"

# Clinical shorthand for age and sex opening a vignette: "45M with Ph+ B-ALL", "a 62 F", "pt 30yo M"
# (upper-case M or F only, and only where a patient is introduced: "6M" elsewhere may be months).
AGE_SEX_SHORTHAND = re.compile(
    r"(?:^\s*|\b(?:[Aa]n?|[Pp]ts?|[Pp]atient)\s+)(\d{1,3})\s?(?:(?:yo|y/o)\s?)?[MF](?![\w+-])"
)
_AGE_PATTERNS = [
    AGE_SEX_SHORTHAND,
    re.compile(r"\b(\d{1,3}(?:\.\d+)?)[\s-]*(?:years?|yrs?|y)[\s-]*old\b", re.I),
    re.compile(r"\b(\d{1,3}(?:\.\d+)?)[\s-]*(?:year|yr)s?[\s-]+of[\s-]+age\b", re.I),
    re.compile(r"\b(?:aged?|age of|age:)\s*(\d{1,3}(?:\.\d+)?)\b", re.I),
    re.compile(r"\b(\d{1,3})\s*(?:yo|y/o|y\.o\.)(?![a-z])", re.I),
]
_MONTHS_RE = re.compile(r"\b(\d{1,3})\s*-?\s*months?[\s-]*old\b", re.I)

# Phrases that name T or B cells without describing the leukemia's lineage.
_NOT_LINEAGE_RE = re.compile(
    r"CAR[\s-]?T(?:[\s-]?cells?)?|\bT[\s-]cell engagers?|bispecific T[\s-]cell\w*|\bT[\s-]cell[\s-]redirect\w*"
    r"|\bB[\s-]cell (?:lymphomas?|aplasia|depletion)",
    re.I,
)
_B_RE = re.compile(r"\b(?:B-ALL|B-cell|B cell|B-lineage|B lineage|B-precursor|BCP-ALL|pre-B)\b", re.I)
_T_RE = re.compile(r"\b(?:T-ALL|T-cell|T cell|T-lineage|T lineage|T-LBL)\b", re.I)

_PH_POS_RE = re.compile(
    r"(?:\bPh\+|\bPh[\s-]?positive\b|\bPhiladelphia(?: chromosome)?[\s-]positive\b|\bBCR(?:-|::)?ABL1?[\s-]?positive\b"
    r"|\bBCR(?:-|::)ABL1?\+|\bt\(9;22\))",
    re.I,
)
_PH_NEG_RE = re.compile(
    r"(?:\bPh-(?![\w+])|\bPh[\s-]?negative\b|\bPhiladelphia(?: chromosome)?[\s-]negative\b"
    r"|\bBCR(?:-|::)?ABL1?[\s-]?negative\b)",
    re.I,
)
_PH_LIKE_RE = re.compile(r"(?:\bPh[\s-]?like\b|\bPhiladelphia[\s-]like\b|\bBCR(?:-|::)?ABL1?[\s-]like\b)", re.I)

_RR_RE = re.compile(
    r"\b(?:relaps\w*|refractory|r/r|salvage|recurren\w*|recurred|came back|second line|2nd line)\b", re.I
)
_NO_CR_RE = re.compile(
    r"(?:\bno (?:CR|complete remission|complete response|remission)\b|\bnot in (?:CR|complete remission|remission)\b"
    r"|\bwithout (?:a )?(?:CR|complete remission|remission)\b"
    r"|\b(?:did not|didn't|does not|doesn't|do not|don't|will not|won't|cannot|can't|failed to|fails to|fail to) "
    r"(?:achieve|reach|attain|get into) (?:a )?(?:CR|complete remission|complete response|remission)\b"
    r"|\binduction failure\b|\bfailed induction\b|\bprimary refractory\b|\bresidual (?:disease|blasts) after induction\b)",
    re.I,
)
_CR_RE = re.compile(
    r"(?:\bin (?:CR|CR1|complete remission|remission)\b|\bachieved (?:a )?(?:CR|complete remission|complete response|remission)\b"
    r"|\b(?:CR|CR1|complete remission|complete response)\b)"
)
_POST_INDUCTION_RE = re.compile(
    r"\b(?:after|post|following|end of|completed?|finishing|finished)[\s-]+(?:the\s+)?induction\b", re.I
)
_DIAGNOSIS_RE = re.compile(
    r"\b(?:newly[\s-]diagnosed|new(?:ly)? diagnos\w*|new diagnosis|at diagnosis|just diagnosed|recently diagnosed"
    r"|untreated|treatment[\s-]na[iï]ve|frontline|front-line|first[\s-]line|upfront|up-front|initial (?:therapy|treatment)"
    r"|induction (?:therapy|regimen|options?|treatment)|for induction|(?:what|which|best) induction|de novo)\b",
    re.I,
)

_MRD_POS_RE = re.compile(
    r"(?:\bMRD\+|\bMRD[\s-]?positiv\w*|\b(?:minimal|measurable) residual disease[\s-]?positiv\w*"
    r"|\bpositive MRD\b|\bdetectable MRD\b"
    r"|\bMRD (?:is |was |remains |remained |became |becomes |turns |turned |goes |went |is now |now )?(?:still )?"
    r"(?:positive|detectable)\b)",
    re.I,
)
_MRD_NEG_RE = re.compile(
    r"(?:\bMRD-(?![\w+])|\bMRD[\s-]?negativ\w*|\b(?:minimal|measurable) residual disease[\s-]?negativ\w*"
    r"|\bnegative MRD\b|\bundetectable MRD\b"
    r"|\bMRD (?:is |was |became |becomes |turns |turned |goes |went |is now |now )?(?:negative|undetectable)\b)",
    re.I,
)

_UNFIT_RE = re.compile(
    r"\b(?:comorbidit\w*|comorbid|co-morbidit\w*|frail\w*|unfit|not fit|poor performance status|ECOG [34]"
    r"|(?:heart|cardiac|renal|kidney|liver|hepatic) (?:failure|disease|impairment))\b",
    re.I,
)
_NO_COMORBID_RE = re.compile(
    r"\b(?:no|without|free of|absence of|lacks?|no significant|no major|no relevant)\s+(?:significant\s+|major\s+|relevant\s+)?"
    r"(?:comorbidit\w*|co-morbidit\w*)\b",
    re.I,
)
_FIT_RE = re.compile(r"\b(?:fit|physically fit|good performance status|ECOG [01]|healthy|otherwise well)\b", re.I)
_NOT_FIT_RE = re.compile(r"\b(?:not|un|isn't|is not|non)[\s-]?fit\b", re.I)

_KMT2A_RE = re.compile(
    r"\b(?:KMT2A|MLL)(?:[\s-]?r\b|[\s-]+rearrange\w*|[\s-]+fusion|[\s-]+translocation)?|\bt\(4;11\)", re.I
)
_KMT2A_NEG_RE = re.compile(
    r"(?:\b(?:no|without|negative for|absent)\s+(?:a\s+)?(?:KMT2A|MLL)\b|\b(?:KMT2A|MLL)[\s-]+(?:negative|wild[\s-]?type|not rearranged|germline|intact)\b"
    r"|\bnot\s+(?:KMT2A|MLL)[\s-]+rearranged\b)",
    re.I,
)
_T315I_RE = re.compile(r"\bT315I\b", re.I)
_T315I_NEG_RE = re.compile(
    r"(?:\b(?:no|without|negative for|absent)\s+(?:an?\s+)?(?:ABL1?\s+)?T315I\b|\bT315I[\s-]+(?:negative|not detected|absent|wild[\s-]?type)\b)",
    re.I,
)
_CD20_RE = re.compile(
    r"\bCD20\+?(?:[\s-]*(?:positive|positivity|expression|expressed|level|on blasts|of|in|at|is|was|=|:|~|\(|approximately|about))*"
    r"[\s-]*(\d{1,3}(?:\.\d+)?)\s*%",
    re.I,
)
_CD20_BEFORE_RE = re.compile(r"\b(\d{1,3}(?:\.\d+)?)\s*%\s*(?:of\s+blasts\s+)?(?:are\s+|were\s+)?CD20\b", re.I)
_HIGH_RISK_RE = re.compile(r"\bhigh[\s-]risk\b", re.I)
_NOT_HIGH_RISK_RE = re.compile(
    r"(?:\b(?:no|without|not)\s+(?:any\s+)?high[\s-]risk\b|\b(?:standard|low|average)[\s-]risk\b)", re.I
)
_PRIOR_RE = re.compile(
    rf"\b{_NUM}\s+(?:prior|previous|earlier|preceding)\s+(?:lines?|regimens?|therap(?:y|ies)|treatments?)"
    rf"(?:\s+of\s+(?:therapy|treatment|chemotherapy))?",
    re.I,
)
_PRIOR_AFTER_RE = re.compile(
    rf"\b(?:after|following|failed|received|had)\s+{_NUM}\s+(?:prior\s+|previous\s+|earlier\s+)?(?:lines?|regimens?|therapies|treatments)",
    re.I,
)
_HYPERSENS_RE = re.compile(
    r"(?:\b(?:hypersensitiv\w*|allerg\w*|anaphyla\w*|reaction)\s+(?:reaction\s+)?(?:to|with|after|on)\s+"
    r"(?:the\s+)?(?:E\.?\s*coli[\s-]*(?:derived\s+)?)?(?:PEG[\s-]?)?(?:asparaginase|pegaspargase|oncaspar|PEG-asparaginase)"
    r"|\b(?:asparaginase|pegaspargase|oncaspar)[\s-]+(?:hypersensitiv\w*|allerg\w*|anaphyla\w*)"
    r"|\ballergic to (?:E\.?\s*coli[\s-]*(?:derived\s+)?)?(?:PEG[\s-]?)?(?:asparaginase|pegaspargase|oncaspar))",
    re.I,
)

_PATIENT_CUE_RE = re.compile(
    r"\b(?:patient|pt|man|woman|boy|girl|male|female|child|adolescent|he|she|his|her|my|our|case"
    r"|year[\s-]old|y/?o|aged?|diagnosed|presents?|presenting|admitted)\b",
    re.I,
)
_DECISION_CUE_RE = re.compile(
    r"\b(?:what|which|how)\b.*\b(?:treat\w*|therap\w*|options?|regimens?|next|do|give|manage\w*|recommend\w*|approach)\b"
    r"|\b(?:should|can|could|would|may)\s+(?:we|i|you|they|he|she|this)\b"
    r"|\b(?:is|are)\b.*\b(?:appropriate|indicated|an option|options|recommended|on[\s-]pathway|reasonable|eligible)\b"
    r"|\bwhat about\b|\bnext step",
    re.I,
)


_LIST_QUESTION_RE = re.compile(
    r"\b(?:what|which)\s+(?:are|is)?\s*(?:the\s+)?(?:options?|treatments?|therap\w*|regimens?)\b", re.I
)
_PROPOSAL_RE = re.compile(
    r"\b(?:is|are|should|can|could|would)\b[^?]*\b(?:appropriate|indicated|an option|recommended|eligible|give|use|start)\b",
    re.I,
)


def _first_match_value(text: str, pos: re.Pattern[str], neg: re.Pattern[str]) -> bool | None:
    """True/False from a positive or a negated mention (negation wins over its own mention)."""
    if neg.search(text):
        return False
    if pos.search(text):
        return True
    return None


def _number(token: str) -> int | None:
    token = token.lower()
    if token.isdigit():
        return int(token)
    return _NUMBER_WORDS.get(token)


def _age(text: str) -> float | None:
    m = _MONTHS_RE.search(text)
    if m:
        months = int(m.group(1))
        return round(months / 12, 2) if months <= 1440 else None
    for pattern in _AGE_PATTERNS:
        m = pattern.search(text)
        if m:
            value = float(m.group(1))
            if 0 <= value <= 120:
                return int(value) if value.is_integer() else value
    return None


def _ph(text: str) -> str | None:
    if _PH_LIKE_RE.search(text):
        return "like"
    pos = _PH_POS_RE.search(text)
    neg = _PH_NEG_RE.search(text)
    if pos and not neg:
        return "positive"
    if neg and not pos:
        return "negative"
    return None


def _lineage(text: str) -> str | None:
    text = _NOT_LINEAGE_RE.sub(" ", text)
    b = bool(_B_RE.search(text))
    t = bool(_T_RE.search(text))
    if b and not t:
        return "B"
    if t and not b:
        return "T"
    return None


def _phase_response(text: str) -> tuple[str | None, str | None]:
    no_cr = bool(_NO_CR_RE.search(text))
    cleaned = _NO_CR_RE.sub(" ", text)
    cr = bool(_CR_RE.search(cleaned))
    rr = bool(_RR_RE.search(cleaned))
    post = bool(_POST_INDUCTION_RE.search(text))
    diagnosis = bool(_DIAGNOSIS_RE.search(cleaned))
    response = "no_CR" if no_cr else ("CR" if cr else None)
    if rr and not no_cr:
        return "relapsed_refractory", None
    if no_cr or post or cr:
        return "post_induction", response
    if diagnosis:
        return "diagnosis", None
    return None, None


def _fit(text: str) -> bool | None:
    if _NO_COMORBID_RE.search(text):
        return True
    if _NOT_FIT_RE.search(text) or _UNFIT_RE.search(text):
        return False
    if _FIT_RE.search(text):
        return True
    return None


def _cd20(text: str) -> float | None:
    m = _CD20_RE.search(text) or _CD20_BEFORE_RE.search(text)
    if not m:
        return None
    value = float(m.group(1))
    if 0 <= value <= 100:
        return int(value) if value.is_integer() else value
    return None


def _prior(text: str) -> int | None:
    for pattern in (_PRIOR_AFTER_RE, _PRIOR_RE):
        m = pattern.search(text)
        if m:
            return _number(m.group(1))
    return None


def _mrd(text: str) -> str | None:
    negative, positive = bool(_MRD_NEG_RE.search(text)), bool(_MRD_POS_RE.search(text))
    if positive == negative:
        return None
    return "positive" if positive else "negative"


def recognise_patient(text: str) -> dict[str, Any]:
    """The contract patient fields that `text` states (partial; nothing inferred)."""
    if not text:
        return {}
    phase, response = _phase_response(text)
    readings: list[tuple[str, Any]] = [
        ("age", _age(text)),
        ("lineage", _lineage(text)),
        ("ph", _ph(text)),
        ("phase", phase),
        ("response", response),
        ("mrd", _mrd(text)),
        ("fit", _fit(text)),
        ("kmt2a", _first_match_value(text, _KMT2A_RE, _KMT2A_NEG_RE)),
        ("cd20_percent", _cd20(text)),
        ("t315i", _first_match_value(text, _T315I_RE, _T315I_NEG_RE)),
        ("high_risk", _first_match_value(text, _HIGH_RISK_RE, _NOT_HIGH_RISK_RE)),
        ("prior_regimens", _prior(text)),
        ("asparaginase_hypersensitivity", True if _HYPERSENS_RE.search(text) else None),
    ]
    return {field: value for field, value in readings if value is not None}


def describes_patient(text: str) -> bool:
    """Whether the question describes a patient (or asks what to do for one): attach a pathway then.

    Two or more recognised fields, or one field with a patient or decision cue ("a 70-year-old",
    "what should we give"), count; a bare topic ("blinatumomab in Ph-positive ALL") does not.
    """
    fields = recognise_patient(text)
    if len(fields) >= 2:
        return True
    if len(fields) == 1:
        return bool(_PATIENT_CUE_RE.search(text) or _DECISION_CUE_RE.search(text))
    return False


_PHASE_SPECIFIC = ("response", "mrd")


def merge_patient(earlier: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[str, Any]:
    """Fold a newer partial record into an earlier one (conversation turns).

    Newer values win field by field. When the phase changes, the earlier response and MRD belong to
    the old phase and are dropped unless the newer record restates them.
    """
    merged: dict[str, Any] = {k: v for k, v in (earlier or {}).items() if v is not None}
    newer = {k: v for k, v in (new or {}).items() if v is not None}
    if "phase" in newer and merged.get("phase") not in (None, newer["phase"]):
        for key in _PHASE_SPECIFIC:
            if key not in newer:
                merged.pop(key, None)
    merged.update(newer)
    return merged


# A therapy named as the patient's history, not proposed: what they react to, failed or relapsed
# after ("allergic to asparaginase", "relapsed after blinatumomab", "refractory to imatinib").
_HISTORY_BEFORE_RE = re.compile(
    r"\b(?:allerg(?:ic|y|ies)|hypersensitiv(?:e|ity)|intoleran(?:t|ce)|reactions?|refractory|resistant|"
    r"relapsed|relapsing|progressed|progressing|failed|failing|failure|after|following|prior|previous(?:ly)?|"
    r"post|despite)\s+(?:(?:to|of|on|with|after|treatment|therapy|treated)\s+){0,3}$",
    re.I,
)


def proposed_therapy(text: str, vocab: Vocabulary | None = None) -> str | None:
    """A therapy the question proposes for the patient ("is inotuzumab an option", "should we give
    blinatumomab + TKI"), as the vocabulary names it; None when the question proposes none. A
    therapy named as history ("What to do if a patient is allergic to asparaginase?") is none."""
    vocab = vocab or default_vocabulary()
    if not text or not _DECISION_CUE_RE.search(text):
        return None
    if _LIST_QUESTION_RE.search(text) and not _PROPOSAL_RE.search(text):
        return None
    therapies = vocab.therapies_in(text)
    if not therapies:
        return None
    first = vocab.matches(text)
    spans = [
        m
        for m in first
        if m.concept in therapies and not _HISTORY_BEFORE_RE.search(text[max(0, m.start - 60) : m.start])
    ]
    if not spans:
        return None
    combo = [spans[0].concept]
    for prev, nxt in itertools.pairwise(spans):
        between = text[prev.end : nxt.start]
        if re.fullmatch(r"\s*(?:\+|plus|with|and|combined with|/)\s*", between, re.I) and nxt.concept not in combo:
            combo.append(nxt.concept)
        else:
            break
    return " + ".join(vocab.label(c) for c in combo)


def patient_in_context(
    question: str, patient: Patient | dict[str, Any] | None, stored: Mapping[str, Any]
) -> tuple[Patient | None, str | None]:
    """The patient in context (earlier turns < the question's description < the explicit record)
    and a therapy the question proposes, if any. None when no patient is mentioned at all."""
    explicit = patient if isinstance(patient, Patient) else parse_patient(patient) if patient else None
    recognised = recognise_patient(question)
    fields: dict[str, Any] = dict(stored)
    if recognised:
        fields = merge_patient(fields, recognised)
    if explicit is not None:
        fields = merge_patient(fields, explicit.known())
    record = parse_patient(fields) if fields else None
    mentions_patient = explicit is not None or bool(stored) or describes_patient(question)
    proposal = proposed_therapy(question) if record is not None else None
    return (record if mentions_patient and record is not None else None), proposal
