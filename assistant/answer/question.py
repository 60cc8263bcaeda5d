"""Question understanding: what is asked (intent: a dose, a figure, a definition, what to do),
about what (content terms, concepts, the diseases it names, the specific things it names), and
whether it is an instruction-injection attempt.

Pure functions over the question text, the vocabulary and the store's term list: typo correction
reads "blinatumomb" as "blinatumomab" only when the corpus knows that word. A question word that
is rare in general English (wordfreq's Zipf frequency below SPECIFIC_ZIPF: "venetoclax", "AUGMENT",
"CD140", "kinase") names something specific; one that is common ("kids", "listed", "mechanism")
does not. Specific words the corpus never uses are `unseen_specific` (the answer refuses, naming
them); specific words it uses are `named` (the evidence must mention them). Which diseases a
question names comes from ally/data/subjects.yaml; which of them the sources cover is decided
against the ingested documents, not here.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from wordfreq import zipf_frequency

from ally.subjects import diseases_in
from ally.vocab import KARYOTYPE_RE, STOPWORDS, Vocabulary, karyotype_word, stem, words
from assistant.answer.patient import AGE_SEX_SHORTHAND

# Zipf frequency (log10 of occurrences per billion words) below which a word names something
# specific. Names of drugs, genes, trials and societies sit below it ("venetoclax" 0, "CSCO" 1.6,
# "cytarabine" 1.5, "asparaginase" 1.1); technical nouns and clinical shorthand above it
# ("workup" 2.3, "pretreatment" 2.5, "translocation" 2.7, "neg" 2.8, "prognosis" 3.3, "pts" 3.5).
SPECIFIC_ZIPF = 2.0
# A very common word ("black" 5.5, "south" 5.4) capitalised right before another capitalised word
# qualifies that name ("Black South Africans") rather than being one (`_modifies_a_name`).
CAPITALISED_COMMON_ZIPF = 5.0
# At or above this Zipf frequency a word is common English ("treatment" 5.0, "part" 5.5, "action"
# 5.3, "maintenance" 4.55): a passage whose only overlap with the question is such words is not
# evidence for it. Measured on the own / external / clinician-dev sets (fully correct): 4.0 gave
# 0.908 / 0.870 / 0.870, 4.5 gave 0.913 / 0.876 / 0.870, 5.0 gave 0.913 / 0.876 / 0.826.
COMMON_ZIPF = 4.5
# A question term in more than this share of the passages says nothing about which one answers.
UBIQUITOUS_SHARE = 0.3

# Words that say what kind of answer is wanted, not what it is about.
QUESTION_WORDS = frozenset(
    [
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "tell",
        "me",
        "about",
        "explain",
        "describe",
        "list",
        "give",
        "show",
        "please",
        "there",
        "any",
        "options",
        "option",
        "recommended",
        "recommend",
        "recommendation",
        "recommendations",
        "treatment",
        "treatments",
        "treat",
        "treated",
        "therapy",
        "therapies",
        "patient",
        "patients",
        "use",
        "used",
        "role",
        "according",
        "source",
        "sources",
        "say",
        "says",
        "mean",
        "means",
        "meaning",
        "define",
        "defines",
        "defined",
        "definition",
        "stand",
        "stands",
        "known",
        "mentioned",
        "mention",
        "listed",
        "happen",
        "happens",
        "happened",
        "nowadays",
        "today",
        "currently",
        "current",
        "usually",
        "typically",
        "generally",
        "kind",
        "kinds",
        "type",
        "types",
        "thing",
        "things",
        "ones",  # "the poor-risk ones"
        "many",  # "how many", "how much": the kind of answer (`_HOW_MANY`), not what it is about
        "much",
        "way",
        "ways",
        "anything",
        "something",
        "main",
        "key",
        "important",
        "overall",
        "exactly",
        "roughly",
        "approximately",
        "described",
        "detail",
        "details",
        "summary",
        "summarise",
        "summarize",
        "briefly",
    ]
)
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget) (all |any |the |your )?(previous|prior|above|earlier)? ?(instructions|rules|prompts?)\b|"
    r"\bsystem prompt\b|\byou are now\b|\bact as\b|\bpretend (to be|you)\b|\bjailbreak\b|\bdeveloper mode\b|"
    r"\breveal (your|the) (instructions|prompt)\b|"
    r"\b(ignore|disregard|forget|bypass) (all |any |the |your )?(sources|passages|context|guardrails|citations)\b|"
    r"\b(just|simply) (state|say|write|confirm|claim|tell (me|them)) that\b|\bwithout (any )?citations?\b|"
    # a role written as a chat transcript's ("SYSTEM: …", "assistant: …") and an order to cite a marker
    r"(?:^|[\n.;?!])\s*(?:system|assistant|developer)\s*:|\b(?:cite|quote|reference)\s+(?:(?:source|reference)\s+)?\[\d+\]",
    re.IGNORECASE,
)
_DOSE_INTENT = re.compile(r"\b(dose|doses|dosing|dosage|how much|mg|mg/m²|mg/m2)\b", re.I)
# "How much does CAR-T cost?", "how much is survival improved?": "how much" before a verb asks an
# amount of something else, not a dose ("how much pegaspargase do I give?" asks one)
_HOW_MUCH_VERB = re.compile(r"\bhow much\s+(?:does|do|did|is|are|was|were|will|would|can|could|has|have)\b", re.I)


def asks_dose(question: str) -> bool:
    """Whether the question asks for a dose (`_DOSE_INTENT`, "how much" before a verb aside)."""
    return bool(_DOSE_INTENT.search(_HOW_MUCH_VERB.sub(" ", question)))


_DEFINE_WORDS = r"\bdefin(e|es|ed|ition)\b|\bmeaning of\b|\bstands? for\b"  # "what defines", "stands for"
_DEFINITION = re.compile(rf"^\s*(what|who)\s+(is|are|was)\b|{_DEFINE_WORDS}", re.I)
_ASKS_DEFINITION = re.compile(_DEFINE_WORDS, re.I)
# "What is X?" asking what X is (not "what is the dose of X", "what are the options for X"): a short
# name after "what is", with no preposition that would make it one attribute of another thing.
_WHAT_IS_X = re.compile(r"^\s*(?:what|who)\s+(?:is|are|was|were)\s+(?:an?\s+|the\s+)?([^?]+?)\s*\??\s*$", re.I)
_ATTRIBUTE_OF = re.compile(
    r"\b(of|for|in|with|to|by|about|on|after|before|between|from|when|than|known|used|given|recommended)\b", re.I
)


def asks_what_it_is(question: str) -> bool:
    """Whether a question asks what a thing is ("What is Rylaze?", "What defines Ph-like ALL?",
    "how is hypodiploidy defined?"), not an attribute of it ("What is the function of BRD4?")."""
    if _ASKS_DEFINITION.search(question):
        return True
    m = _WHAT_IS_X.match(question)
    return m is not None and len(m.group(1).split()) <= 4 and not _ATTRIBUTE_OF.search(m.group(1))


# "Which disease is dasatinib used to treat?", "what type of cancer …", "for which indications …": the
# answer is a disease, and the unit that names one leads (`asks_disease`).
_WHICH_DISEASE = re.compile(
    r"\b(?:which|what)\s+(?:(?:kinds?|types?|sorts?)\s+of\s+)?"
    r"(?:diseases?|conditions?|disorders?|illness(?:es)?|cancers?|malignanc(?:y|ies)|tumou?rs?|indications?)\b",
    re.I,
)


def asks_disease(question: str) -> bool:
    """Whether the question asks which disease (condition, cancer, indication) something concerns."""
    return bool(_WHICH_DISEASE.search(question))


# "How many years …", "how long …": the figure asked for is counted in a unit, which the evidence
# must give with a number ("3 years", "two-year", "6-12 months").
_HOW_MANY = re.compile(r"\bhow (?:many|much)((?:\s+[a-z]+){1,4})", re.I)
_HOW_LONG = re.compile(r"\bhow long\b|\bfor how many\b|\bduration\b", re.I)
DURATION_UNITS = ("year", "month", "week", "day", "hour", "minute", "cycle")
_COUNTED = frozenset([*DURATION_UNITS, "dose", "course", "patient", "case", "mg", "unit", "infusion", "time"])
_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|a few"


def asked_units(question: str) -> tuple[str, ...]:
    """The units a question counts its figure in ("how many years" -> year; "how long" -> the
    units of time), singular; empty when it asks for no counted figure."""
    units = [w.lower().rstrip("s") for m in _HOW_MANY.finditer(question) for w in m.group(1).split()]
    found = tuple(dict.fromkeys(u for u in units if u in _COUNTED))[:1]  # "how many new cases": case
    if _HOW_LONG.search(question):
        found = tuple(dict.fromkeys([*found, *DURATION_UNITS]))
    return found


@lru_cache(maxsize=64)
def counted_re(units: tuple[str, ...]) -> re.Pattern[str]:
    """A number with one of `units` after it: "3 years", "2-3 years", "two-year", "6 to 12 months",
    "6,500 new cases", "93 adult B-ALL patients" (up to three words between)."""
    alts = "|".join(re.escape(u) for u in units)
    number = rf"(?:\d+(?:[.,]\d+)?|{_NUMBER_WORDS})"
    return re.compile(
        # "aged 65 years and older", "55 years old" are ages, not durations
        rf"(?<!\baged )(?<!\bages )(?<!\bage )\b{number}(?:\s*(?:-|–|to|or)\s*{number})?\s*-?\s*"
        rf"(?:[\w+/-]+\s+){{0,3}}(?:{alts})s?\b"
        r"(?![\s-]+(?:old|of age|(?:and|or) (?:older|over|above)))",
        re.I,
    )


_NUMBER_INTENT = re.compile(
    r"\b(what percent(age)?|percentage|proportion|how many|how often|how common|what share|fraction|how likely)\b",
    re.I,
)
# A measure named in the question ("survival", "the relapse rate") asks for its figure, unless the
# question asks what acts on it ("what predicted long-term survival?", "which factors affect the
# relapse rate?"): then the answer is the predictor, not a number.
_MEASURE_INTENT = re.compile(r"\b(rate|rates|incidence|prevalence|mortality|survival)\b", re.I)
# A measure whose word has other senses ("insulin sensitivity") asks for its figure when the question
# asks what it is: "What is the sensitivity of mammography?", "what is the half-life of warfarin?"
_MEASURE_ASKED = re.compile(
    r"\b(?:what|which)\s+(?:is|are|was|were)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}?(?:half-life|sensitivity|specificity)\b",
    re.I,
)
_ACTS_ON_MEASURE = re.compile(
    r"\b(?:what|which)\s+(?:\w+\s+){0,2}?(?:predict|determin|affect|influenc|improv|driv|increas|reduc|lower)\w*\b|"
    # ... or whether something does ("Does remdesivir reduce mortality in COVID-19?"): a yes or no, no figure
    r"^\s*(?:does|do|did|can|could|will|would|may|might)\b.*?\b(?:predict|determin|affect|influenc|improv|"
    r"driv|increas|reduc|lower|decreas|prolong|shorten|worsen|impact|extend|alter|chang)\w*\b",
    re.I,
)


# The measure a figure is asked of: the word before "rate" ("relapse rate", "CR rate"), or survival,
# incidence, prevalence, mortality named as such.
_MEASURE_OF = re.compile(
    r"\b([a-z][\w+/-]*)\s+rates?\b|\b(survival|incidence|prevalence|mortality|half-life|sensitivity|specificity)\b",
    re.I,
)
# A share asked of those who die or survive ("what percentage of patients with sepsis die?", "how many
# children survive?"): the verb names the measure counted.
_SHARE_OF_VERB = re.compile(
    r"\b(?:percent(?:age)?|proportion|fraction|share|how many|how likely)\b(?:\s+[\w/+-]+){0,8}?\s+"
    r"(die|dies|died|survive|survives|survived)\b",
    re.I,
)


def asked_measure(question: str, vocab: Vocabulary) -> tuple[frozenset[str], tuple[str, ...]]:
    """The tokens of the measure whose figure the question asks for ("relapse" and its concept for
    "the relapse rate", survival's for "5-year survival") and the measure as written ("relapse
    rate"); empty when it names none."""
    found: set[str] = set()
    names: list[str] = []
    for m in _MEASURE_OF.finditer(question):
        phrase = m[1] or m[2]
        if m[1] and (phrase.lower() in STOPWORDS or phrase.lower() in QUESTION_WORDS or is_common(phrase.lower())):
            continue  # "what rate", "the overall rate": no measure named
        tokens = [t for t in content_tokens(phrase, vocab) if t != "rate"]
        if tokens:
            found.update(tokens)
            names.append(m[0])
    for m in _SHARE_OF_VERB.finditer(question):
        found.update(vocab.tokens(m[1]))
        names.append(f"how many {m[1].lower()}")
    return frozenset(found), tuple(dict.fromkeys(names))


# "How often should MRD be measured?", "how often is nelarabine repeated?": a schedule is asked (not
# how common something is: "how often does CNS relapse occur?"), answered by a unit that gives one.
_HOW_OFTEN_DONE = re.compile(
    r"\bhow (?:often|frequently)\b(?:\s+[\w/+-]+){0,6}?\s+(?:measured|given|checked|repeated|monitored|done|"
    r"performed|administered|tested|assessed|dosed|taken|infused|injected|scheduled|reassessed|followed)\b",
    re.I,
)
FREQUENCY_RE = re.compile(
    r"\bevery\b|\b(?:once|twice|thrice)\b|\b\d+\s*times\b|\b(?:daily|weekly|monthly|yearly|annually|hourly)\b|"
    r"\bper\s+(?:day|week|month|year|cycle)\b|\b\d+[- ](?:day|week|month)\s+cycles?\b|\bcontinuous(?:ly)?\b|"
    r"\bdays?\s+\d+(?:\s*(?:,|and|-|\u2013)\s*\d+)+|\bq\s?\d+\s?(?:h|d|w)\b",
    re.I,
)


# "When does someone need X?", "under what circumstances is X given?", "which patients should get
# X?": the question asks for an indication (the circumstances), not a date ("when was X approved?").
_WHEN_INDICATED = re.compile(
    r"(?:^|[,;:(]|\band\s|\bbut\s|\bso\s)\s*when\s+(?:is|are|does|do|should|would|could|can|must|will|might|to)\b|"
    r"\bunder what (?:circumstances|conditions)\b|\bin (?:what|which) (?:cases|situations|settings|circumstances)\b|"
    r"\b(?:which|what) patients (?:should|need|benefit|are|get|can|qualify|require)\b|"
    r"\bwho (?:should|needs?|benefits?|qualifies|requires?|is (?:eligible|a candidate))\b",
    re.I,
)
# What states a circumstance: a conditional clause, patients who / with something, or a risk group or
# remission a therapy is given in (`state`: the marker's own words name it). The words after the
# marker say which circumstance (`condition_words`).
CONDITION_RE = re.compile(
    r"\b(?:if|when|whenever|unless|once|until|after|upon|following|in case of|in the (?:setting|presence) of|"
    r"(?:in|for) (?:patients|those|people|children|adults|cases|subjects)(?: \w+)? (?:who|with|whose)|"
    r"who (?:have|has|had|develop|developed|are|were|fail|failed|relapse|relapsed)|"
    r"(?P<state>(?:for|with|in) (?:very )?(?:high|standard|intermediate|low)[- ]risk|"
    r"in (?:first|second|third|1st|2nd|3rd) (?:complete )?(?:remission|relapse)|in CR\d?))\b",
    re.I,
)


# "What did E1910 show?", "what did inotuzumab achieve in trials?", "results of …": the question asks
# for a finding, which a sentence reporting one gives (`RESULT_RE`).
_FINDINGS = re.compile(
    r"\bwhat (?:did|does|do|has|have)\b[^?]{1,60}?\b(?:show|find|demonstrate|report|conclude|reveal|achieve)\b|"
    r"\b(?:results?|findings?|outcomes?) (?:of|from|with)\b",
    re.I,
)
# A sentence that says what a study set out to do or how it was done, not what is so: "We assessed
# …", "To determine the MTD …", "The aim of this study was …", "This study evaluated …", "METHODS: …".
STUDY_AIM_RE = re.compile(
    r"^\s*(?:(?:OBJECTIVES?|AIMS?|PURPOSE|METHODS?|DESIGN|SETTING|PATIENTS?|PARTICIPANTS|MATERIALS? AND METHODS)\s*:|"
    r"(?:here,?\s+)?we\s+(?:assessed|investigated|aimed|sought|studied|evaluated|examined|conducted|performed|"
    r"analy[sz]ed|compared|enrolled|recruited|retrospectively|prospectively|undertook|set out)\b|"
    r"to\s+(?:\w+ly\s+)?(?:determine|assess|evaluate|investigate|compare|examine|explore|study|identify|"
    r"characteri[sz]e|analy[sz]e|describe|measure|review|test)\b|"
    r"the\s+(?:aims?|purpose|objectives?|goals?)\s+of\s+(?:this|the|our|the present)\b|"
    r"(?:this|the present|our)\s+(?:[\w-]+,?\s+){0,3}?(?:study|trial|review|analysis|work|survey)\s+(?:aimed|aims|"
    r"was designed|sought|"
    r"investigated|evaluated|examined|assessed|compared)\b)",
    re.I,
)

RESULT_RE = re.compile(
    r"\b(?:showed|shown|shows|found|demonstrated|demonstrates|reported|revealed|concluded|improved|reduced|"
    r"increased|decreased|achieved|prolonged|extended|resulted in|led to|was associated with|were associated with)\b",
    re.I,
)


def asks_findings(question: str) -> bool:
    """Whether the question asks what a study or therapy showed or achieved (`_FINDINGS`)."""
    return bool(_FINDINGS.search(question))


# A question asking how something is done ("How is MRD measured?", "how do you check for MRD?",
# "How is ALL diagnosed?"), not how much, how often or how good; a unit stating the means ("assessment
# by flow cytometry or PCR", "using NGS") answers it.
_METHOD = re.compile(
    r"^\s*how\s+(?:is|are|was|were|do|does|did|can|should|would|could)\s+(?!(?:often|many|much|long|old|"
    r"common|likely|soon|quickly|fast|frequent(?:ly)?|far|big|large|high|low|effective|safe|well|bad|good|"
    r"severe|serious|important|useful|accurate|sensitive|specific|different|similar)\b)"
    r"(?!.*\b(?:defined|called|named|known|termed)\b)",  # "how is hypodiploidy defined?" asks what it is
    re.I,
)
MEANS_RE = re.compile(
    r"\b(?<!followed )(?<!preceded )(?<!caused )(?<!driven )(?<!characterized )(?<!characterised )(?<!marked )"
    r"(?<!defined )(?<!mediated )(?<!induced )(?<!accompanied )(?<!replaced )(?:by|using|via)\b",
    re.I,
)  # a means ("by flow cytometry", "using NGS"), not an agent ("followed by TKI", "caused by mutations")


# What the thing done requires ("Diagnosis requires ≥20% bone marrow lymphoblasts", "staging is based on
# …"): a means when the clause names, before it, what the question asks how to do; not a purpose
# ("follow-up is required to confirm …").
CLAUSE_BREAK_RE = re.compile(r"[,;:()\u2014]")  # where a clause ends: the text after the last one is the clause
REQUIRES_RE = re.compile(r"\b(?:requires?|required|(?:is|are)\s+based\s+on|reli(?:es|ed)\s+on)\b(?!\s+to\b)", re.I)


# "When was blinatumomab approved?", "in what year was X first described?": a date is asked (not
# "when is X indicated?", a circumstance); a year or a date answers it.
_DATE_ASKED = re.compile(r"^\s*(?:when|in what year|what year|in which year|which year)\s+(?:was|were|did|had)\b", re.I)
DATE_RE = re.compile(
    r"\b(?:1[89]|20)\d{2}\b|\b(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)\b"
)


def asks_date(question: str) -> bool:
    """Whether the question asks when something happened (`_DATE_ASKED`)."""
    return bool(_DATE_ASKED.search(question))


# "What are the criteria for diagnosing ALL?", "what is needed for a diagnosis of ALL?": what a thing
# requires is asked, which a unit stating a means or a requirement answers as it answers how it is done.
_CRITERIA = re.compile(
    r"\bcriteri(?:a|on)\s+(?:for|of|to)\b|^\s*what\s+(?:is|are)\s+(?:needed|required|necessary)\s+(?:for|to)\b", re.I
)


def asks_method(question: str) -> bool:
    """Whether the question asks how something is done (`_METHOD`) or what it requires (`_CRITERIA`)."""
    return bool(_METHOD.search(question) or _CRITERIA.search(question))


# "What causes Huntington's disease?", "what is the main cause of cervical cancer?", "which virus causes
# X?": a cause is asked, which a unit stating one answers ("caused by mutations of the IT-15 gene", "HPV
# … responsible for …"), `CAUSE_RE`.
_CAUSE_ASKED = re.compile(
    r"^\s*(?:what|which)\b(?:\s+\w+){0,3}?\s+(?:causes?|caused)\b|\b(?:the\s+)?(?:main\s+|most\s+common\s+|"
    r"leading\s+|primary\s+)?(?:cause|causes|etiology|aetiology)\s+of\b",
    re.I,
)
CAUSE_RE = re.compile(  # what a thing is caused by, not what it causes ("… eventually causing death")
    r"\b(?:caused\s+by|due\s+to|responsible\s+for|results?\s+from|resulting\s+from|attributed\s+to|"
    r"attributable\s+to|arises?\s+from|etiolog\w*|aetiolog\w*|contribut\w*\s+to)\b",
    re.I,
)


def asks_cause(question: str) -> bool:
    """Whether the question asks what causes something (`_CAUSE_ASKED`)."""
    return bool(_CAUSE_ASKED.search(question))


def asks_when_indicated(question: str) -> bool:
    """Whether the question asks in which circumstances something is done or needed (`_WHEN_INDICATED`)."""
    return bool(_WHEN_INDICATED.search(question))


def condition_words(text: str) -> list[str]:
    """The words of each circumstance `text` states (`CONDITION_RE`): what follows the marker up to
    the clause's end (at most eight words), with a risk group's or remission's own words."""
    out: list[str] = []
    for m in CONDITION_RE.finditer(text):
        rest = re.split(r"[.;:,()\[\]\u2192]", text[m.end() :], maxsplit=1)[0]
        out.extend([*(words(m.group("state")) if m.group("state") else []), *words(rest)[:8]])
    return out


def asks_frequency(question: str) -> bool:
    """Whether the question asks how often something is done (a schedule, `_HOW_OFTEN_DONE`)."""
    return bool(_HOW_OFTEN_DONE.search(question))


def asks_number(question: str) -> bool:
    """Whether the question asks for a figure: a share, a count, a rate or survival (`_NUMBER_INTENT`,
    `_MEASURE_INTENT`), not what acts on one (`_ACTS_ON_MEASURE`)."""
    if _NUMBER_INTENT.search(question) or _MEASURE_ASKED.search(question):
        return True
    return bool(_MEASURE_INTENT.search(question)) and not _ACTS_ON_MEASURE.search(question)


_STATISTIC_RE = re.compile(r"\b(?:median|mean|average)\b", re.I)


def number_words(question: str) -> frozenset[str]:
    """The stems of the words asking for a figure ("percentage", "proportion" of `_NUMBER_INTENT`; the
    statistic, "median"): they say what kind of answer is wanted, not what it is about."""
    found = [*_NUMBER_INTENT.finditer(question), *_STATISTIC_RE.finditer(question)]
    return frozenset(stem(w) for m in found for w in words(m[0]))


# A question asking for an age ("median age at diagnosis", "at what age", "how old") is answered
# by a unit that gives one ("ages 2 and 5", "aged 65", "55 years old", "under 40"), not by a count.
_AGE_INTENT = re.compile(
    r"\b(?:what|which|median|mean|average|peak|typical|usual|maximum|minimum|upper|lower)\s+age\b|"
    r"\bat what age\b|\bhow old\b|\bage (?:at|of) (?:diagnosis|onset|presentation)\b|"
    r"\bage (?:range|limit|cut-?off|threshold)s?\b",
    re.I,
)
# "What age group gets X?", "which ages is X approved for?": a group of ages answers too ("pediatric
# and young adult patients"), the vocabulary's age groups.
_AGE_GROUP_INTENT = re.compile(r"\bage[- ]groups?\b|\b(?:what|which) ages\b|\bage brackets?\b", re.I)
# The words of those cues that name the kind of answer ("age group", "what age", "how old", "age
# range"): a unit that gives an age covers them (`age_frame_terms`).
_AGE_FRAME_WORD = re.compile(r"\b(?:ages?|groups?|brackets?|old|range|limit|cut-?off|thresholds?)\b", re.I)


def age_frame_terms(question: str, vocab: Vocabulary) -> frozenset[str]:
    """The terms of the words naming the age asked ("In E1910, which age group gained most?": age,
    group): what kind of answer is wanted, so a unit giving an age ("under 55 years old") covers them."""
    spans = [m[0] for p in (_AGE_INTENT, _AGE_GROUP_INTENT) for m in p.finditer(question)]
    return frozenset(t for span in spans for w in _AGE_FRAME_WORD.findall(span) for t in vocab.tokens(w))


AGE_FIGURE = re.compile(
    r"\b(?:ages?|aged)\s+(?:of\s+)?(?:between\s+)?\d+|\b\d+\s*(?:-|–|to|and)\s*\d+\s*(?:years?|yrs?)\b|"
    r"\b\d+\s*(?:years?|yrs?)[\s-]+(?:old|of age)\b|\b\d+-year-olds?\b|"
    # "under 40", "over 65" -- not "over 100 patients", "above 50%"
    r"\b(?:under|over|older than|younger than|above|below)\s+\d+\b(?!\s*(?:%|[a-z]))|"
    r"\b(?:under|over|older than|younger than|above|below)\s+\d+\s*(?:years?|yrs?)\b|"
    r"[<>≥≤]\s*\d+\s*(?:years?|yrs?)\b|\b(?:adults?|patients?|aged?|children)\s*[<>≥≤]\s*\d+",
    re.I,
)
# A question asking for a share or a rate ("what proportion", "what % of", "CR rate", "how common")
# is answered by a figure that is one: a percentage, "N of M", "one in N", a fraction word, a rate
# per population ("1.6 per 100,000"). Not survival alone ("median survival" is a duration) and not
# "how often" (a schedule).
_SHARE_INTENT = re.compile(
    r"\b(percent(?:age)?s?|proportions?|what share|fractions?|how common|how frequent(?:ly)?|how likely|"
    r"chances?|rates?)\b|\bwhat %",
    re.I,
)
# "What percentage of smokers had …", "the proportion of adult ALL that is Ph+": the group the share is
# taken of, which a unit giving the share must be about (`share_group`).
_SHARE_OF = re.compile(
    r"(?:\b(?:percent(?:age)?s?|proportions?|fractions?|share)|%)\s+of\s+((?:the\s+|all\s+)?[\w+/-]+(?:\s+[\w+/-]+){0,2})",
    re.I,
)


def share_group(question: str, vocab: Vocabulary) -> frozenset[str]:
    """The tokens of the group a share is asked of ("of smokers": smoker; "of adult ALL": adult, the
    ALL concept), its words up to the first function word ("of smokers had …" stops at "had")."""
    found: set[str] = set()
    for m in _SHARE_OF.finditer(question):
        kept: list[str] = []
        for w in m.group(1).split():
            if w.lower() in ("the", "all") and not kept and w != "ALL":
                continue
            if w.lower() in STOPWORDS and w != "ALL":
                break
            kept.append(w)
        found |= {t for t in vocab.tokens(" ".join(kept)) if t not in QUESTION_WORDS}
    return frozenset(found)


SHARE_FIGURE = re.compile(
    r"\d\s*%|\bper ?cent\b|\bper\s+[\d,]+\b|\b\d+\s*(?:of|out of|in)\s+(?:every\s+)?[\d,]+\b|"
    r"\bone[- ](?:in|out of)\b|\b\d+(?:\.\d+)?\s*/\s*\d+\b|"
    # a rate per time ("28 mcg/day", "10 mL per hour"): an infusion or dose rate
    r"\d[\d,.]*\s*(?:mg|mcg|µg|g|ml|units?)(?:/m²|/m2|/kg)?\s*(?:/|per)\s*(?:h|hr|hour|min|minute|day|d|week)\b|"
    r"\b(?:half|one[- ]third|two[- ]thirds|a third|a quarter|one[- ]quarter|three[- ]quarters|one[- ]fifth)\b",
    re.I,
)
# Questions that ask what to do: only these are led by the pathway's options for a described patient.
# A question whose answer is a list or an explanation (it may run longer than a one-fact answer):
# "List …", "What are …", "Which genes are …", "options", "how does X work", "why", "describe".
_LONG_ANSWER = re.compile(
    r"^\s*(list|name|enumerate|describe|explain|summari[sz]e|compare|why)\b|\bwhat are\b|"
    r"\bwhich\b[^?]*\b(are|were)\b|\b(options?|regimens?|alternatives|types|causes|differences|mechanisms|"
    r"steps|features|criteria|examples|characteristics)\b|\bhow (?:do|does|did|is|are)\b[^?]*\b(work|made|differ|compare)",
    re.IGNORECASE,
)
_MANAGEMENT = re.compile(
    r"\b(options?|treat|treated|treatment|manage|managed|management|therap(y|ies)|regimens?|next steps?|"
    r"what (should|to) do|recommend(ed|ation|ations)?|induction|consolidation|maintenance|approach|plan|"
    r"first[- ]line|frontline|salvage|choices?|should (we|i)|appropriate|consider|on[- ]pathway|eligible|"
    r"(what|and) if|what (now|next|then))\b",  # "what if he does not reach CR?", "what now?": what to do then
    re.IGNORECASE,
)
# "what MRD level counts as negative, 10^-4?", "why do some relapse after CAR-T, antigen loss?": a
# question followed by a short phrase after its last comma proposes its own answer, which the
# evidence must then state. Not a proposal: another clause ("…, and where?", "…, do TKIs help?",
# "…, what's recommended?"), a choice ("…, ponatinib or dasatinib?"), a title's claim with no
# question word before it ("Malnutrition, a new inducer of …?").
_PROPOSAL = re.compile(r"^(?P<ask>.*\S)\s*,\s*(?P<proposal>[^,:;?]+?)\s*\?+\s*$", re.S)
_WH = re.compile(r"\b(what|which|who|whom|whose|why|how|when|where)\b", re.I)
_CLAUSE_START = re.compile(
    r"^(?:and|or|but|so|then|if|e\.?g|i\.?e|what|which|who|whom|whose|why|how|when|where|is|are|was|were|"
    r"do|does|did|can|could|should|would|will|has|have|had|may|might|must|any|anything|else|etc)\b",
    re.I,
)
PROPOSAL_MAX_WORDS = 5
# Superscript exponents ("10⁻⁴") and the caret form ("10^-4") written as "10-4", how extracted text
# often holds them, so that the forms compare equal.
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_FIGURE_RE = re.compile(r"[<>≥≤]?\d+(?:[.,]\d+)*(?:-\d+)?\s*%?")


def normalise_figures(text: str) -> str:
    """`text` with exponents, minus signs and spaces before a percent sign written one way."""
    out = text.translate(_SUPERSCRIPTS).replace("^", "").replace("−", "-").replace("–", "-")
    return re.sub(r"(\d)\s+%", r"\1%", out)


def proposed_answer(question: str) -> str:
    """The answer a question proposes after its last comma ("antigen loss", "10^-4"), or ""."""
    m = _PROPOSAL.match(question.strip())
    if not m or not _WH.search(m.group("ask")):
        return ""
    proposal = m.group("proposal").strip()
    n_words = len(proposal.split())
    if not 1 <= n_words <= PROPOSAL_MAX_WORDS or _CLAUSE_START.match(proposal) or re.search(r"\bor\b", proposal, re.I):
        return ""
    return proposal


# "the 5-year OS", "30-day mortality", "at 2 years": the figure asked for is at a timepoint (or over a
# duration), and the evidence must give that one; another timepoint's figure is not the answer. Ages
# ("a 65-year-old", "patients over 60 years") are no timepoint.
_SMALL_NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
_COUNT = rf"(?:\d+(?:\.\d+)?|{'|'.join(_SMALL_NUMBERS)})"
_SPANS = {"year": "year|yr", "month": "month|mo", "week": "week|wk", "day": "day"}
_TIMEPOINT = re.compile(
    rf"(?<![\w.-])(?P<n1>{_COUNT})-(?P<u1>year|month|week|day)s?\b(?![\s-]+old)|"
    rf"\b(?:at|after|within|by|over)\s+(?P<n2>{_COUNT}|an?)\s+(?P<u2>year|month|week|day)s?\b(?!\s+(?:old|of age))|"
    # a trial's day or week counted from the start: "at day 60", "by Day 30", "week 12"
    rf"\b(?P<u3>day|week|month)\s*\+?(?P<n3>\d+)\b",
    re.I,
)


@dataclass(frozen=True)
class Timepoint:
    """A timepoint or duration the question fixes: as written ("5-year"), its number and its unit."""

    label: str
    number: str
    unit: str

    @property
    def pattern(self) -> re.Pattern[str]:
        return _timepoint_re(self.number, self.unit)


@lru_cache(maxsize=256)
def _timepoint_re(number: str, unit: str) -> re.Pattern[str]:
    """The number (in figures or in words) with the unit, hyphenated or not: "5-year", "5 years",
    "five-year", "5-yr"."""
    forms = {number}
    if number.isdigit() and 1 <= int(number) <= len(_SMALL_NUMBERS):
        forms.add(_SMALL_NUMBERS[int(number) - 1])
    elif number in _SMALL_NUMBERS:
        forms.add(str(_SMALL_NUMBERS.index(number) + 1))
    alts = "|".join(re.escape(f) for f in sorted(forms))
    span = _SPANS[unit]
    # "5-year", "5 years" -- or the unit first, as trials count days: "Day 30", "day +30", "week 12"
    return re.compile(rf"(?<![\w.])(?:{alts})\s*-?\s*(?:{span})s?\b|\b(?:{span})\s*\+?(?:{alts})(?!\w|\.\d)", re.I)


def timepoints_in(question: str) -> tuple[Timepoint, ...]:
    """The timepoints a question fixes ("5-year OS": 5 years; "at 2 years"), in order."""
    found = []
    for m in _TIMEPOINT.finditer(question):
        number = (m.group("n1") or m.group("n2") or m.group("n3")).lower()
        number = "1" if number in ("a", "an") else number  # "within a year"
        unit = (m.group("u1") or m.group("u2") or m.group("u3")).lower()
        found.append(Timepoint(m.group(0), number, unit))
    return tuple(dict.fromkeys(found))


def without_timepoints(text: str) -> str:
    """`text` with its timepoints ("1-year", "at day 30") blanked: what is left holds its figures."""
    return _TIMEPOINT.sub(" ", text)


def figures_of(text: str) -> list[str]:
    """The figures in `text` (numbers with their sign and percent), written one way."""
    return [f.replace(" ", "") for f in _FIGURE_RE.findall(normalise_figures(text))]


DOSE_RE = re.compile(r"\d[\d,.]*\s*(mg|mcg|µg|g|units|IU)(/m²|/kg|/m2)?\b|mg/m²|cells/kg", re.I)
NUMBER_RE = re.compile(r"(?<![\w.])[<>≥≤]?\d+(?:[.,]\d+)*(?:\s*%)?")


# A figure the question bounds ("patients over 55", "< 60 years", "aged 65 and older"): the unit
# that answers must bound the same figure the same way ("under 55" is the opposite).
_UP = r"over|above|older than|more than|greater than|exceeding|at least|>|≥"
_DOWN = r"under|below|younger than|less than|fewer than|at most|<|≤"
_BOUND_BEFORE = re.compile(rf"(?:(?P<up>{_UP})|(?P<down>{_DOWN}))\s*(?P<n>\d+(?:\.\d+)?)(?!\d|\.\d)", re.I)
_BOUND_AFTER = re.compile(
    r"(?<![\d.])(?P<n>\d+(?:\.\d+)?)(?:\s*(?:years?|yrs?)(?:\s+old)?)?\s+(?:and|or)\s+"
    r"(?:(?P<up>older|over|above|more)|(?P<down>younger|under|below|less|fewer))\b",
    re.I,
)


def _bound_matches(text: str) -> list[re.Match[str]]:
    """The bounds of a text ("over 55", "65 and older"), in text order."""
    found = [m for pattern in (_BOUND_BEFORE, _BOUND_AFTER) for m in pattern.finditer(text)]
    return sorted(found, key=lambda m: m.start())


def bounds(text: str) -> dict[str, str]:
    """The bounded figures of a text and their direction: {"55": "up"} for "over 55"."""
    found: dict[str, str] = {}
    for m in _bound_matches(text):
        found.setdefault(m.group("n"), "up" if m.group("up") else "down")
    return found


def age_ranges(text: str) -> list[tuple[float, float]]:
    """The ages each age bound of a text covers ("Adult >65": 65-130; "under 18 years": 0-17); a
    bound on another figure ("over 100 patients") is none."""
    found: list[tuple[float, float]] = []
    for m in _bound_matches(text):
        if not AGE_FIGURE.search(text[max(0, m.start() - 12) : m.end() + 12]):
            continue
        n = float(m.group("n"))
        inclusive = bool(re.search(r"≤|at most|or (?:younger|under|below|less)", m.group(0), re.I))
        found.append((n, 130.0) if m.group("up") else (0.0, n if inclusive else n - 1))  # "under 18": 0-17
    return found


def bounded_age_groups(text: str, vocab: Vocabulary) -> set[str]:
    """The vocabulary's narrow age groups (`Vocabulary.narrow_age_groups`) that hold every age a
    text's age bound covers ("Adult >65", "aged 65 and older": older adults; "under 18 years":
    children): the passage is about that group, as a patient's age in a question is
    (`patient_age_groups`). A bound on another figure ("over 100 patients") or one that spans groups
    ("Adult <65": adults as a whole are named only in words) names none."""
    narrow = vocab.narrow_age_groups()
    return {g for lo, hi in age_ranges(text) for g, (a, b) in narrow.items() if a <= lo and hi <= b}


def excludes_age(text: str, age: float) -> bool:
    """Whether a text bounds the ages it is about so as to leave out a patient of `age` ("aged 65
    years and older" for a 45-year-old): it has age bounds and none holds the age ("90% of children
    under 15, 40% of adults over 60" still holds an 8-year-old)."""
    ranges = age_ranges(text)
    return bool(ranges) and not any(lo <= age <= hi for lo, hi in ranges)


def bound_phrases(text: str) -> list[str]:
    """The bounds as written ("over 26", "65 and older"), in order."""
    return [m.group(0) for m in _bound_matches(text)]


def bounds_agree(question: str, text: str) -> bool:
    """Every figure the question bounds is in the text, not bounded the other way."""
    theirs = bounds(text)
    for number, direction in bounds(question).items():
        if not re.search(rf"(?<![\d.]){re.escape(number)}(?![\d]|\.\d)", text):
            return False
        if theirs.get(number, direction) != direction:
            return False
    return True


def bounds_contradict(question: str, text: str) -> bool:
    """Whether the text bounds a figure the question bounds the other way ("under 65" asked,
    "Adult >65" written): it is about the group on the other side of the bound."""
    theirs = bounds(text)
    return any(number in theirs and theirs[number] != direction for number, direction in bounds(question).items())


@lru_cache(maxsize=1024)
def _spelled_out_re(acronym: str) -> re.Pattern[str] | None:
    letters = [c for c in acronym if c.isalpha()]
    if not 2 <= len(letters) <= 6 or not acronym.replace(".", "").isupper():
        return None
    joiner = r"[\w-]*\W+(?:(?:of|and|the|for|in)\W+)?"
    body = joiner.join(re.escape(c) for c in letters) + r"\w*"
    # two letters are matched as capitals only ("United States"); longer ones in any case
    return re.compile(rf"\b{body}") if len(letters) == 2 else re.compile(rf"\b{body}", re.I)


def spelled_out(acronym: str, text: str) -> bool:
    """Whether `text` spells out the acronym as the question writes it: "US" in "the United States",
    "MRD" in "minimal residual disease", "CNS" in "central nervous system"."""
    pattern = _spelled_out_re(acronym)
    return pattern is not None and bool(pattern.search(text))


@dataclass
class QuestionAnalysis:
    text: str
    corrected: str
    terms: list[str]
    concepts: set[str]
    wants_dose: bool
    wants_number: bool
    wants_age: bool  # asks for an age, answered by a unit that gives one (`AGE_FIGURE`)
    wants_share: bool  # asks for a share or a rate, answered by a percentage or "N of M" (`SHARE_FIGURE`)
    wants_definition: bool
    injection: bool
    what_it_is: bool = False  # asks what a thing is, not one attribute of it (`asks_what_it_is`)
    wants_list: bool = False  # a list or an explanation: the answer may run longer (`_LONG_ANSWER`)
    wants_disease: bool = False  # asks which disease something concerns (`asks_disease`)
    wants_frequency: bool = False  # asks how often something is done (`asks_frequency`)
    wants_date: bool = False  # asks when something happened ("When was X approved?", `asks_date`)
    # the age of the patient asked about: written in the question ("a 10 year old"), or the patient
    # record's, set by the caller that has one
    patient_age: float | None = None
    wants_age_group: bool = False  # asks for an age group: one the vocabulary names answers too
    age_frame: frozenset[str] = frozenset()  # the terms naming the age asked, covered by a unit giving one
    wants_findings: bool = False  # asks what a study or therapy showed (`asks_findings`)
    wants_circumstances: bool = False  # asks when (in which circumstances) something is done (`asks_when_indicated`)
    wants_method: bool = False  # asks how something is done ("How is MRD measured?", `asks_method`)
    wants_cause: bool = False  # asks what causes something ("What causes Huntington's disease?", `asks_cause`)
    yes_no: bool = False  # asks yes or no (`yes_no_question`)
    share_of: frozenset[str] = frozenset()  # the group a share is asked of ("of smokers", `share_group`)
    measure: frozenset[str] = frozenset()  # the measure a figure is asked of (`asked_measure`)
    measure_names: tuple[str, ...] = ()  # ... as the question writes it ("cure rate")
    units: tuple[str, ...] = ()  # the units a counted figure is asked in ("how many years": year)
    diseases: list[str] = field(default_factory=list)  # disease ids named (ally.subjects)
    corrections: dict[str, str] = field(default_factory=dict)
    unseen_specific: set[str] = field(default_factory=set)  # specific words the corpus never uses
    named: set[str] = field(default_factory=set)  # specific terms the corpus uses (tokens)
    unseen_uncommon: set[str] = field(default_factory=set)  # uncommon words the corpus never uses
    words_of: dict[str, str] = field(default_factory=dict)  # token -> the question's word for it
    proposal: str = ""  # the answer the question proposes after its last comma (`proposed_answer`)
    proposal_terms: frozenset[str] = frozenset()  # its content tokens, figures left out
    proposal_figures: tuple[str, ...] = ()  # its figures (`figures_of`)
    timepoints: tuple[Timepoint, ...] = ()  # the timepoints its figure is asked at ("5-year OS")
    sides: tuple[frozenset[str], frozenset[str]] | None = None  # the terms of each thing compared
    qualified: tuple[tuple[str, str], ...] = ()  # names told apart by a letter ("vitamin D", `qualified_names`)

    @property
    def in_scope_terms(self) -> bool:
        return bool(self.terms)

    def word(self, token: str) -> str:
        """The question's own word for a term (for messages that name it)."""
        return self.words_of.get(token, token)


def is_rare(word: str) -> bool:
    """Whether a word is rare in general English (names a drug, gene, trial, place ...)."""
    return zipf_frequency(word, "en") < SPECIFIC_ZIPF


_INFLECTION = re.compile(r"(?<=[a-z]{3})(?:ed|ing|es|s)$")


def _base_forms(word: str) -> list[str]:
    """The word and the bases an English inflection may come from ("switched": switch; "dosed":
    dose; "stopped": stop; "taking": take), for frequency: an inflection is rarer than its word."""
    w = word.lower()
    m = _INFLECTION.search(w)
    if m is None or "-" in w:
        return [w]
    base = w[: m.start()]
    forms = [w, base, base + "e"]
    if len(base) > 3 and base[-1] == base[-2]:
        forms.append(base[:-1])  # a doubled consonant: "stopped", "planning"
    return forms


def is_common(word: str) -> bool:
    """Whether a word is common in general English (it cannot tell one passage from another)."""
    return not any(ch.isdigit() for ch in word) and zipf_frequency(word, "en") >= COMMON_ZIPF


def inflects_common(word: str) -> bool:
    """Whether a word is an inflection of a common English word ("switched": switch): a verb's or a
    plural's form is rarer than its word, so frequency alone reads it as a thing's name."""
    return any(is_common(form) for form in _base_forms(word)[1:])


def title_case(question: str) -> bool:
    """Whether the question is written like a title ("Does Residency Selection Predict Performance?"):
    then a capital letter says nothing about a word being a name."""
    # Words with a lower-case letter (so not acronyms such as "CD19" or "CAR-T"), the first left out.
    found = re.findall(r"[A-Za-z][\w'-]*", question)[1:]
    content = [w for w in found if w.lower() not in STOPWORDS and any(c.islower() for c in w)]
    return len(content) >= 3 and sum(w[0].isupper() for w in content) / len(content) >= 0.5


# What a dose or a product's attribute is of: the word after a vocabulary dose or attribute term and
# "of" ("the dose of ibuprofen for children", "side effects of metformin", "the maker of X"). It names
# the drug though it is no rare word ("ibuprofen" is as frequent as English words of Zipf 2.9): a dose
# and a side effect are always some drug's.
_OF_WORD = re.compile(r"\s+of\s+(?:the\s+|an?\s+)?([A-Za-z][\w-]*)", re.I)


def objects_asked(question: str, vocab: Vocabulary) -> list[str]:
    """The words a question's "dose of …" or "<attribute> of …" (a vocabulary `attribute`: side
    effects, maker, cost, approval) names the product with, when they are no common English word
    ("ibuprofen", "metformin"; not "the dose of this", "side effects of treatment") nor the head of a
    name told apart by a letter ("vitamin" of "vitamin K" is named with its letter, `qualified_names`)."""
    heads = {head for head, _ in qualified_names(question)}
    found = [
        of.group(1)
        for m in vocab.matches(question)
        if (m.concept == "c_dose" or vocab.concepts[m.concept].attribute) and (of := _OF_WORD.match(question, m.end))
    ]
    return [w for w in found if not is_common(w.lower()) and stem(w.lower()) not in heads]


def _named_concepts(question: str, vocab: Vocabulary) -> set[str]:
    """Concepts other than therapies that the question writes as a name (a test, a gene, a
    complication: "NGS", "MRD", "IKZF1"): each word of the mention specific and not a common English
    word ("ALL", "CR" and "relapse" name nothing)."""
    named: set[str] = set()
    for m in vocab.matches(question):
        if vocab.concepts[m.concept].therapy:
            continue
        found = words(question[m.start : m.end])
        if found and all(is_specific(w, question) and not is_common(w) for w in found):
            named.add(m.concept)
    return named


# A unit a dose or a measure is written in, as the tokenizer leaves it ("m2" of "mg/m2", "kg").
_MEASURE_UNIT = re.compile(r"(?:m2|m²|kg|mg|mcg|µg|ug|ng|ml|dl|mmol|µmol|umol|iu)", re.I)


def is_specific(term: str, question: str) -> bool:
    """Whether a question word names something specific (a drug, a gene, a trial, a number, a name),
    rather than a common word the corpus happens not to use ("listed", "kids")."""
    if term.isdigit() or term in STOPWORDS or term in QUESTION_WORDS or _MEASURE_UNIT.fullmatch(term):
        return False  # the "m2" of "5 g/m2" is part of a dose, not a name
    if any(ch.isdigit() for ch in term) or is_rare(term):
        return True
    if title_case(question):
        return False
    # A capitalised word inside a sentence is a name ("the Augment trial"), however common the word.
    # ("the AUGMENT trial" too: the first letter decides).
    for i in _occurrences(term, question):
        end = i + len(term)
        if i == 0 or _is_word_char(question[i - 1]) or (end < len(question) and _is_word_char(question[end])):
            continue  # not a whole word
        if i >= 2 and question[i - 1].isspace() and question[i - 2] in ".?!":
            continue  # a sentence's first word
        if question[i].isupper():
            if _modifies_a_name(question, i, end, term):
                continue  # "Black South Africans": the name is what follows
            return True
    return False


def _modifies_a_name(question: str, start: int, end: int, term: str) -> bool:
    """Whether a capitalised word is a very common word written in title case right before another
    capitalised word ("Black South Africans", "Western Australia", "New York"): it qualifies that
    name rather than naming something itself. All in capitals ("HOPE trial") it stays a name."""
    written = question[start:end]
    if written.isupper() or zipf_frequency(term, "en") < CAPITALISED_COMMON_ZIPF:
        return False
    rest = question[end:]
    return rest[:1] == " " and rest[1:2].isupper()


def _is_word_char(c: str) -> bool:
    """What `\\w` matches."""
    return c.isalnum() or c == "_"


def _occurrences(word: str, text: str) -> Iterator[int]:
    """Where `word` occurs in `text`, ignoring case (plain string search: a pattern compiled per word
    and question missed the regex cache on every answer)."""
    low, needle = text.lower(), word.lower()
    if len(low) != len(text) or not needle:  # a letter whose lower case is longer ("İ"): search as written
        yield from (m.start() for m in re.finditer(re.escape(word), text, re.I))
        return
    i = low.find(needle)
    while i >= 0:
        yield i
        i = low.find(needle, i + 1)


def content_tokens(text: str, vocab: Vocabulary) -> list[str]:
    """Vocabulary-expanded tokens without stopwords or question words."""
    return [t for t in vocab.tokens(text) if t not in QUESTION_WORDS and t not in STOPWORDS]


class Lexicon(AbstractSet[str]):
    """The store's term list with the indexes the question analysis searches, built once per store
    generation: typo candidates by their first two letters (a typo keeps them: "blinatumomb"), long
    terms by their first six (other endings of one stem). Without them each question scanned every
    term of the store, several times (milliseconds per answer at 1,300 documents, more at 100k)."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = frozenset(terms)
        typo: defaultdict[str, list[str]] = defaultdict(list)
        long: defaultdict[str, list[str]] = defaultdict(list)
        for t in self.terms:
            if len(t) >= 5 and t.isalpha():
                typo[t[:2]].append(t)
            if len(t) >= 8:
                long[t[:6]].append(t)
        self._typo = dict(typo)
        self._long = dict(long)
        self._joined: tuple[AbstractSet[str] | Mapping[str, str], Lexicon] | None = None

    @classmethod
    def of(cls, terms: AbstractSet[str]) -> Lexicon:
        return terms if isinstance(terms, Lexicon) else cls(terms)

    def __contains__(self, term: object) -> bool:
        return term in self.terms

    def __iter__(self) -> Iterator[str]:
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    def joined(self, more: AbstractSet[str] | Mapping[str, str]) -> Lexicon:
        """This lexicon with the terms of `more` (the vocabulary's words as written), built once for
        the `more` last asked: typo correction searches both on every question, and building their
        union each time cost ~3 ms per answer at 2,300 real PubMed passages, growing with the store."""
        hit = self._joined
        if hit is None or hit[0] is not more:
            hit = self._joined = (more, Lexicon(self.terms | set(more)))
        return hit[1]

    def typo_candidates(self, word: str) -> list[str]:
        """Known alphabetic terms of five letters or more that start as `word` does."""
        return self._typo.get(word[:2], [])

    def same_start(self, root: str) -> list[str]:
        """Known terms of eight letters or more that share `root`'s first six."""
        return self._long.get(root[:6], [])


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _one_edit_word(low: str, lexicon: Lexicon) -> str | None:
    """The word one edit from `low` (a letter dropped, added, changed or two swapped; the first
    letter kept) that English uses and that is a question word, a stopword or a word of seven
    letters or more whose stem the corpus holds, the most common in English of them; None when
    there is none. A stem can hide a typo ("neurotoxicty" stems to "neurotoxicti", "neurotoxicity"
    to "neurotox"), the word itself cannot; "precedication" stems to a corpus stem but is no word."""
    splits = [(low[:i], low[i:]) for i in range(1, len(low) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    edits |= {a + c + b for a, b in splits for c in _LETTERS}
    edits.discard(low)
    found = [
        (zipf, w)
        for w in edits
        if (w in QUESTION_WORDS or w in STOPWORDS or (len(w) >= 7 and stem(w) in lexicon))
        and (zipf := zipf_frequency(w, "en")) > 0
    ]
    return max(found, default=(0.0, None))[1]


def correct_typos(text: str, known: AbstractSet[str], vocab: Vocabulary) -> tuple[str, dict[str, str]]:
    """Replace words the corpus does not know by a close known word with the same first two letters
    (length ≥ 5, similarity ≥ 0.84; or, for a word rare in English, one edit from a known stem)."""
    corrections: dict[str, str] = {}
    # the corpus's words and the vocabulary's ("side efects": the vocabulary's "side effects" even where
    # the corpus never writes it), corrected to a word as written: "nelarbine" is "nelarabine", not
    # the stem "nelarabin" (which names no concept)
    lexicon = Lexicon.of(known).joined(vocab.surfaces)

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        low = word.lower()
        if len(low) < 5 or low in STOPWORDS or low in QUESTION_WORDS or not low.isalpha():
            return word
        if vocab.concepts_in(word):
            return word
        if stem(low) in lexicon:
            # a vocabulary name written as its stem ("nelarabin"), a word English does not use: the name
            surface = vocab.surfaces.get(stem(low))
            if surface and surface != low and surface.isalpha() and is_rare(low) and vocab.concepts_in(surface):
                corrections[word] = surface
                return surface
            return word
        # A typo keeps its first two letters ("blinatumomb"); "fraction" is not "reaction".
        candidates = lexicon.typo_candidates(low)
        close = difflib.get_close_matches(low, candidates, n=1, cutoff=0.84)
        if not close and is_rare(low) and len(stem(low)) >= max(5, len(low) - 3):
            # a word English does not use, one letter from a stem the corpus does ("apprived" for
            # "approved"; a common word the corpus lacks, "later", is no typo of "latex"); not when
            # the stem dropped a long suffix ("premedication" -> "premed" is one letter from "preced")
            one = process.extractOne(stem(low), candidates, scorer=DamerauLevenshtein.distance, score_cutoff=1)
            close = [one[0]] if one else []
        if close and close[0][:2] == low[:2]:
            fixed = vocab.surfaces.get(close[0], close[0])
            corrections[word] = fixed
            return fixed
        written_as_name = any(c.isupper() for c in word) and m.start() > 0  # "Curli" is no typo of "carli"
        if is_rare(low) and not written_as_name and (edit := _one_edit_word(low, lexicon)):
            corrections[word] = edit  # "whcih" -> "which", "neurotoxicty" -> "neurotoxicity"
            return edit
        return word

    corrected = re.sub(r"[A-Za-z][A-Za-z-]*[A-Za-z]", fix, text)
    return corrected, corrections


_PARENTHESIS = re.compile(r"([\w-]+(?:\s+[\w-]+){0,5})\s*\(([^()]{2,80})\)")


def defined_in_question(question: str, known_terms: AbstractSet[str]) -> set[str]:
    """Words the question itself spells out in a parenthesis with words the corpus knows:
    "iAMP21 (intrachromosomal amplification of chr 21)", "Tecartus (brexucabtagene)". Most of the
    gloss's words must be known: "Aucatzyl (obe-cel)" is not defined by the "cel" of another
    product's "liso-cel"."""
    defined: set[str] = set()
    for m in _PARENTHESIS.finditer(question):
        before, inside = words(m.group(1)), words(m.group(2))
        for named, gloss in ((before[-1:], inside), (inside, before)):
            content = [w for w in gloss if w not in STOPWORDS]
            if 2 * sum(stem(w) in known_terms for w in content) > len(content):
                defined |= {stem(w) for w in named}
    return defined


def is_variant(a: str, b: str) -> bool:
    """Whether two word stems are one word with another ending: one extends the other by at most two
    letters ("africa", "african"; "interfraction", "interfractional"), or, both long, they differ
    only in their last letters ("oligometastas", "oligometastat"). Words with digits never are
    ("UKALL14" is not "UKALL2003")."""
    if a == b:
        return True
    if not (a.isalpha() and b.isalpha()):
        return False
    short, long = sorted((a, b), key=len)
    if len(long) - len(short) > 3:
        return False
    if len(short) >= 5 and long.startswith(short) and len(long) - len(short) <= 2:
        return True
    return len(short) >= 8 and long.startswith(short[:-2])


def known_variant(raw: str, known_terms: AbstractSet[str]) -> str | None:
    """The corpus's form of a word it holds in another form: a possessive ("Wilm's" for "Wilms"), or
    another ending of the same long stem ("oligometastases" for "oligometastatic")."""
    bare = raw.lower().replace("'s", "").replace("'", "")
    for form in (bare, bare + "s"):
        if stem(form) in known_terms:
            return stem(form)
    root = stem(bare)
    if len(root) < 8:
        return None
    close = [t for t in Lexicon.of(known_terms).same_start(root) if is_variant(root, t)]
    return min(close, key=lambda t: (abs(len(t) - len(root)), t)) if close else None


_JOINED_CODE = re.compile(r"([a-z]{2,6})(\d{1,5})")


def _written_joined(word: str, question: str) -> str | None:
    """A word `join_codes` made one as the question writes it: a code name it hyphenates ("LB-100" for
    lb100) or a rearrangement ("t(12;21)" for t12.21); None when the word is neither."""
    code = _JOINED_CODE.fullmatch(word)
    if code and (m := re.search(rf"\b{code[1]}[-\u2010\u2011]{code[2]}\b", question, re.I)):
        return m.group(0)
    if "(" in question:
        return next((m[0] for m in KARYOTYPE_RE.finditer(question) if karyotype_word(m) == word), None)
    return None


def as_written(word: str, question: str) -> str:
    """The word as the question writes it ("AUGMENT", not "augment"), for messages that name it; a
    part of a hyphenated name as the whole name ("PD-L1", not "L1")."""
    if joined := _written_joined(word, question):
        return joined
    n = len(question)

    def free(i: int) -> bool:  # no word character or hyphen at i
        return i < 0 or i >= n or not (_is_word_char(question[i]) or question[i] == "-")

    found = list(_occurrences(word, question))
    for i in found:
        if free(i - 1) and free(i + len(word)):
            return question[i : i + len(word)]
    for i in found:  # inside a hyphenated name: the whole name
        start, end = i, i + len(word)
        while start >= 2 and question[start - 1] == "-" and _is_word_char(question[start - 2]):
            start -= 2
            while start > 0 and _is_word_char(question[start - 1]):
                start -= 1
        while end + 1 < n and question[end] == "-" and _is_word_char(question[end + 1]):
            end += 2
            while end < n and _is_word_char(question[end]):
                end += 1
        if free(start - 1) and free(end):
            return question[start:end].removesuffix("'s")  # the name, not its possessive ("obe-cel's")
    return word


# A patient's age written in the question ("75 yo", "a 70-year-old", "aged 68", "80 y/o"): the number
# says who the patient is, and as a term it would match any "75%" in the sources.
_AGE_OF_PATIENT = re.compile(
    r"\b(?:aged?\s+\d{1,3}\b|\d{1,3}\s*(?:-\s*)?(?:yo\b|y/o\b|y\.o\.|yrs?\b\s*old\b|years?\b\s*-?\s*old\b|year-old\b))",
    re.I,
)

# The setting a question closes a clause with ("safe in pregnancy?", "data on blinatumomab in
# infants?", "dose with cirrhosis, ..."): one word after a preposition, then the clause ends. Where
# the corpus never uses that word, an answer about the subject alone would be about another
# population, so the word is a name the sources lack (refused by name), not merely weighed.
_CLOSING_SETTING = re.compile(
    r"\b(?:in|during|among|for|with|without)\s+(?:(?:a|an|the)\s+)?([A-Za-z][\w'-]*)"
    r"(?=\s*(?:$|[?.,;:!)]|\s[-\u2013\u2014]\s|\s+(?:and|or|vs\.?|versus)\b))",
    re.I,
)


def _name_unseen_phrases(
    corrected: str,
    runs: list[list[tuple[str, str]]],
    unseen_uncommon: set[str],
    unseen_specific: set[str],
    words_of: dict[str, str],
) -> None:
    """Uncommon words the corpus never uses that name a thing become names the corpus lacks (refused
    by name, not merely weighed): two or more in a row ("cranial irradiation", "replacement milks"),
    and a setting that closes a clause (`_CLOSING_SETTING`: "safe in pregnancy?")."""
    for phrase in [r for r in runs if len(r) >= 2]:
        name = " ".join(dict.fromkeys(as_written(raw, corrected) for _, raw in phrase))
        for token, _ in phrase:
            unseen_uncommon.discard(token)
            unseen_specific.add(token)
            words_of[token] = name
    for m in _CLOSING_SETTING.finditer(corrected):
        token = stem(m.group(1).lower())
        if token in unseen_uncommon:
            unseen_uncommon.discard(token)
            unseen_specific.add(token)


def _patient_age_matches(question: str) -> list[re.Match[str]]:
    """Where the question writes a patient's age: "a 70 year old", "8 yo", or "45M with Ph+ B-ALL"."""
    return [*_AGE_OF_PATIENT.finditer(question), *AGE_SEX_SHORTHAND.finditer(question)]


def _patient_ages(question: str) -> list[int]:
    return [int(n.group(0)) for m in _patient_age_matches(question) if (n := re.search(r"\d{1,3}", m.group(0)))]


def question_patient_age(question: str) -> int | None:
    """The patient's age the question writes ("a 70 year old", "8 yo", "aged 16"), when it writes one."""
    ages = _patient_ages(question)
    return ages[0] if len(set(ages)) == 1 else None


def patient_age_groups(question: str, vocab: Vocabulary) -> set[str]:
    """The vocabulary's age-group concepts holding a patient's age the question writes: the sources
    write the group ("older adults", "children"), not the age."""
    return set().union(*(vocab.age_groups(age) for age in _patient_ages(question)))


def analyse(question: str, vocab: Vocabulary, known_terms: AbstractSet[str]) -> QuestionAnalysis:
    """What `question` asks; `known_terms`: the store's terms (a `Lexicon`, built once, on the answer path)."""
    known_terms = Lexicon.of(known_terms)
    corrected, corrections = correct_typos(question, known_terms, vocab)
    ages = {w for m in _patient_age_matches(corrected) for w in words(m.group(0)) if w not in STOPWORDS}
    # Words the corpus never uses carry no evidence either way unless they name something specific
    # (a drug, a trial, a place: kept, and refused by name) or are uncommon English ("vaccination":
    # kept, so that evidence lacking them covers less of the question); common words ("listed",
    # "kids") are dropped. Words inside a vocabulary term ("brexu-cel") are covered by the term's concept.
    in_terms = {w for m in vocab.matches(corrected) for w in words(corrected[m.start : m.end])}
    defined = defined_in_question(corrected, known_terms)
    keep: set[str] = set()
    unseen_specific: set[str] = set()
    unseen_uncommon: set[str] = set()
    named = {c for c in vocab.concepts_in(corrected) if vocab.concepts[c].therapy} | _named_concepts(corrected, vocab)
    objects = {stem(w.lower()) for w in objects_asked(corrected, vocab)}  # "the dose of ibuprofen": a drug named
    words_of: dict[str, str] = {}
    # a word corrected to the corpus's stem of another ending ("hyperdiploid" to "hyperdiploidi") is
    # named as the question wrote it; a typo ("blinatumomb") by its correction
    endings = {
        fixed.lower(): word for word, fixed in corrections.items() if fixed.lower().startswith(stem(word.lower()))
    }
    run: list[tuple[str, str]] = []  # consecutive uncommon words the corpus never uses
    runs: list[list[tuple[str, str]]] = []
    for raw in words(corrected):
        token = stem(raw)
        # a term's word with its possessive ("brexu-cel's") is the term's too
        if (
            raw in STOPWORDS
            or raw in QUESTION_WORDS
            or len(raw) < 2
            or raw.removesuffix("'s") in in_terms
            or raw in ages
        ):
            runs.append(run)
            run = []
            continue
        if token not in known_terms:
            token = known_variant(raw, known_terms) or token
        words_of.setdefault(token, endings.get(raw) or as_written(raw, corrected))
        # a part of a hyphenated name the corpus lacks ("obe" of "obe-cel") names a product, unless it
        # is a common prefix or word ("pre-", "follow-up")
        specific = (
            is_specific(raw, corrected)
            or (token not in known_terms and "-" in words_of[token] and not is_common(raw))
            or token in objects
        )
        if token in known_terms:
            keep.add(token)
            if specific:
                named.add(token)
        elif specific and token not in defined:
            keep.add(token)
            unseen_specific.add(token)
        elif not is_common(raw) and token not in defined:
            keep.add(token)
            unseen_uncommon.add(token)
            if len(raw) >= 4:  # clinical shorthand ("neg pts", "yo") is no name
                run.append((token, raw))
                continue
        runs.append(run)
        run = []
    _name_unseen_phrases(corrected, [*runs, run], unseen_uncommon, unseen_specific, words_of)
    # "how much" before a verb is no dose cue: its dose concept is dropped
    no_how_much = _HOW_MUCH_VERB.sub(" ", corrected)
    terms = [t for t in content_tokens(_AGE_OF_PATIENT.sub(" ", no_how_much), vocab) if t.startswith("c_") or t in keep]
    concepts = vocab.concepts_in(no_how_much)
    terms += sorted(patient_age_groups(corrected, vocab))  # "a 70 year old": the sources' "older" patients
    proposal = proposed_answer(corrected)
    measure, measure_names = asked_measure(corrected, vocab)
    proposal_figures = tuple(figures_of(proposal))
    proposal_words = _FIGURE_RE.sub(" ", normalise_figures(proposal))
    return QuestionAnalysis(
        text=question,
        corrected=corrected,
        terms=list(dict.fromkeys(terms)),
        concepts=concepts,
        wants_dose=asks_dose(corrected),
        wants_number=asks_number(corrected),
        wants_share=bool(_SHARE_INTENT.search(corrected)),
        share_of=share_group(corrected, vocab),
        wants_age=bool(_AGE_INTENT.search(corrected) or _AGE_GROUP_INTENT.search(corrected)),
        wants_age_group=bool(_AGE_GROUP_INTENT.search(corrected)),
        age_frame=age_frame_terms(corrected, vocab),
        wants_definition=bool(_DEFINITION.search(corrected)),
        what_it_is=asks_what_it_is(corrected),
        injection=bool(_INJECTION.search(question)),
        wants_list=bool(_LONG_ANSWER.search(corrected)) or asks_for_management(corrected),
        wants_disease=asks_disease(corrected),
        wants_frequency=asks_frequency(corrected),
        wants_date=asks_date(corrected),
        patient_age=question_patient_age(corrected),
        wants_circumstances=asks_when_indicated(corrected),
        wants_method=asks_method(corrected),
        wants_cause=asks_cause(corrected),
        wants_findings=asks_findings(corrected) and not yes_no_question(corrected),
        yes_no=yes_no_question(corrected),
        measure=measure,
        measure_names=measure_names,
        units=asked_units(corrected),
        diseases=diseases_in(corrected),
        corrections=corrections,
        unseen_specific=unseen_specific,
        named=named,
        unseen_uncommon=unseen_uncommon,
        words_of=words_of,
        proposal=proposal,
        proposal_terms=frozenset(t for t in content_tokens(proposal_words, vocab) if not t.isdigit()),
        proposal_figures=proposal_figures,
        timepoints=timepoints_in(corrected),
        sides=_sides(corrected, vocab, terms),
        qualified=qualified_names(corrected),
    )


_AUX = r"(?:is|are|am|does|do|did|can|could|should|shall|has|have|had|was|were|will|would|may|might|must)(?:n't)?"
# A yes/no question: a clause that starts with an auxiliary verb ("Is …", "Fatigue in pSS: is there
# a link …?"), not a wh-question.
_YESNO_RE = re.compile(rf"(?:^|[:.?;,]\s+|--\s*)[\"'“]?{_AUX}\b", re.IGNORECASE)
_WH_RE = re.compile(r"^\s*(what|which|who|whom|whose|when|where|why|how|list|name|describe|explain)\b", re.I)


def yes_no_question(question: str) -> bool:
    """Whether the question asks yes or no ("Is …?", "Does …?", "Title: is it safe?"); a choice
    between alternatives ("Is it favorable or poor risk?") does not."""
    if _WH_RE.match(question) or re.search(r"\bor\b(?!\s+not\b)", question, re.IGNORECASE):
        return False
    return bool(_YESNO_RE.search(question))


# A phrase that sets where or against what the question asks ("in the AUGMENT trial", "for T-ALL",
# "with PD-L1 expression", "than inotuzumab"): up to three words between the preposition and the word.
_SETTING_PREPOSITION = re.compile(
    r"\b(?:in|during|among|for|with|without|after|before|following|at|within|under|over|than|versus|vs\.?|"
    r"compared\s+(?:to|with))\s+(?:[\w'-]+\s+){0,3}$",
    re.IGNORECASE,
)


def in_setting(question: str, word: str) -> bool:
    """Whether `word` (as the question writes it) stands in a phrase that sets the question's
    setting, group or comparator ("in the AUGMENT trial", "for CD7-positive T-ALL", "than X"), not in
    what it asks of its subject ("a PD-L1 inhibitor", "bind to CD140")."""
    at = written_at(question, word)
    return at is not None and bool(_SETTING_PREPOSITION.search(question[:at]))


def written_at(question: str, word: str) -> int | None:
    """Where the question first writes `word`, as the start of the whole written word it is part of
    ("PD-L1" for "L1"), or None."""
    m = re.search(rf"(?<![\w-])[\w-]*{re.escape(word)}", question, re.IGNORECASE)
    return m.start() if m else None


# A name told apart by one capital letter or a Roman numeral ("vitamin D", "hepatitis B", "factor VIII",
# "class II", "phase III", "memory B cells"): the qualifier is the name (vitamin C is another vitamin,
# phase II another trial phase), though the tokenizer drops single letters. The head is a word in
# lower case (not an acronym: "CAR T"); "HLA-B27" is not "HLA-B" (a digit follows), nor is the "T" of
# "relapsed T-ALL", "memory T-cells" or "early T-precursor" one (a compound: a hyphen and a word
# follow). "IV" is no numeral: "given IV" is intravenous as often as "stage IV" is four.
# Names may be coordinated ("hepatitis B and C", "factor VIII or IX", "types 1 and 2"): each is asked.
_QUALIFIER = r"(?:[A-Z]|II|III|VI|VII|VIII|IX|XI|XII)"
_AND = r"(?:\s*[,/]\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)"
_QUALIFIED = re.compile(
    rf"\b([A-Za-z][a-z]{{2,}})[ -]({_QUALIFIER}(?:{_AND}(?!I\b){_QUALIFIER}(?![A-Za-z0-9+]|-\w))*)(?![A-Za-z0-9+]|-\w)"
)
# ... and a type, or a thing a rare word names, by its number ("type 1 diabetes" is not type 2,
# "interleukin 6" not interleukin 17): the tokenizer drops small numbers too. A common word before a
# number is a measure or a timepoint ("day 30", "grade 3", "phase 2"), not a name.
_NUMBERED_TYPE = (
    re.compile(  # a word, not an acronym ("DFCI 00-01" is a protocol's code), nor an age ("frail 75 year old")
        r"\b([Tt]ype|[A-Za-z][a-z]{3,}?)s?[ -](\d{1,2}(?:(?:\s*[,/]\s*|\s+(?:and|or)\s+)\d{1,2})*)"
        r"(?![\d.,%]|-\d|\s*-?\s*(?:years?|yrs?|yo|y/o|months?|weeks?|days?)\b)"
    )
)
NUMBERED_NAME_ZIPF = 3.5  # a head word rarer than this in English names things by number
# Texts whose names are kept: a question naming one reads every candidate unit's and passage's names,
# and the same passages come back across units and answers.
QUALIFIED_MEMO_SIZE = 20_000
_SEPARATOR = re.compile(_AND)
# ... and an isoform or subunit by its Greek letter, written or spelled ("TNF-α", "IL-1β", "PPARγ",
# "interferon gamma"): the tokenizer keeps ASCII only
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "κ": "kappa", "λ": "lambda"}
_GREEK_QUALIFIED = re.compile(
    r"\b([A-Za-z][A-Za-z0-9]*(?:-\d+)?)[-\u2010\u2011 ]?(α|β|γ|δ|ε|κ|λ|alpha|beta|gamma|delta|epsilon|kappa|lambda)"
    r"(?![A-Za-z0-9])",
    re.I,
)


# A Greek letter's word before a head ("Delta hepatitis" is hepatitis delta, "beta cells"): not a name
# the question asks by (a class such as "beta blockers" is written many ways: `qualified_names` leaves
# it whole), but a passage writing it names another thing than "hepatitis C" (`greek_before_names`).
_GREEK_BEFORE = re.compile(
    r"(?<![\w-])(α|β|γ|δ|ε|κ|λ|alpha|beta|gamma|delta|epsilon|kappa|lambda)[-\u2010\u2011 ]([A-Za-z][a-z]{3,})\b", re.I
)


def qualified_written(text: str) -> dict[tuple[str, str], str]:
    """Each name `qualified_names` finds, as the text writes it ("vitamin D", "TNF-α")."""
    found: dict[tuple[str, str], str] = {}
    for m in _QUALIFIED.finditer(text):
        if m[1].lower() not in STOPWORDS:
            for qualifier in _SEPARATOR.split(m[2]):
                found.setdefault((stem(m[1].lower()), qualifier), f"{m[1]} {qualifier}")
    for m in _NUMBERED_TYPE.finditer(text):
        head = m[1].lower()
        if head != "type" and zipf_frequency(head, "en") >= NUMBERED_NAME_ZIPF:
            continue
        for number in _SEPARATOR.split(m[2]):
            found.setdefault((stem(head), number), f"{m[1]} {number}")
    for m in _GREEK_QUALIFIED.finditer(text):
        head = m[1].lower().replace("-", "")
        if head not in STOPWORDS and head not in _GREEK.values():
            found.setdefault((stem(head), _GREEK.get(m[2].lower(), m[2].lower())), m[0])
    return found


def greek_before_names(text: str) -> tuple[tuple[str, str], ...]:
    """The names a text qualifies by a Greek letter written before the head, as (the head's stem,
    the letter's name): "Delta hepatitis" → ("hepat", "delta")."""
    return tuple(
        (stem(m[2].lower()), _GREEK.get(m[1].lower(), m[1].lower()))
        for m in _GREEK_BEFORE.finditer(text)
        if m[2].lower() not in STOPWORDS and m[2].lower() not in _GREEK.values()
    )


@lru_cache(maxsize=QUALIFIED_MEMO_SIZE)
def qualified_names(text: str) -> tuple[tuple[str, str], ...]:
    """The names a text tells apart by a capital letter, a Roman numeral, a type's number or a Greek
    letter, as (the head word's stem, qualifier): "vitamin D supplementation" and "vitamins D and K"
    → ("vitamin", "D"); a stopword is no head ("Can I …", "is A …")."""
    return tuple(qualified_written(text))


# A comparison of two things ("the difference between Ph+ and Ph-like ALL", "ponatinib vs dasatinib",
# "compare T-ALL and B-ALL", "how does X differ from Y"): each side, as written.
_COMPARED = (
    re.compile(r"\bdifferences?\s+between\s+(.+?)\s+(?:and|&|vs\.?|versus)\s+(.+?)\s*(?:[?.;:,]|\bin\b|$)", re.I),
    re.compile(r"\bcompar(?:e|ing)\s+(.+?)\s+(?:and|with|to|vs\.?|versus)\s+(.+?)\s*(?:[?.;:,]|\bin\b|$)", re.I),
    re.compile(r"\b(?:does|do|is|are)\s+(.+?)\s+differ\s+from\s+(.+?)\s*(?:[?.;:,]|\bin\b|$)", re.I),
    re.compile(r"^(?:\s*\w+:\s*)?(.+?)\s+(?:vs\.?|versus)\s+(.+?)\s*(?:[?.;:,]|\bin\b|$)", re.I),
    # a comparative: "is CAR-T better than a transplant for …", "is ponatinib superior to imatinib?"
    re.compile(
        r"\b(?:is|are|was|were|does|do|did)\s+(.+?)\s+(?:(?:better|worse|safer|(?:more|less)\s+\w+)\s+than|"
        r"(?:superior|inferior|preferable)\s+to)\s+(.+?)\s*(?:[?.;:,]|\b(?:in|for|as|at|to)\b|$)",
        re.I,
    ),
)


def compared_sides(question: str) -> tuple[str, str] | None:
    """The two things a question compares, as written, or None."""
    for pattern in _COMPARED:
        if m := pattern.search(question):
            return m.group(1).strip(), m.group(2).strip()
    return None


def _sides(question: str, vocab: Vocabulary, terms: list[str]) -> tuple[frozenset[str], frozenset[str]] | None:
    """The question's terms on each side of a comparison it makes, less those both sides share."""
    sides = compared_sides(question)
    if sides is None:
        return None
    a, b = (frozenset(vocab.tokens(side)) & set(terms) for side in sides)
    a, b = a - b, b - a
    return (a, b) if a and b else None


def asks_for_management(question: str) -> bool:
    """Whether the question asks what to do (options, treatment, next steps)."""
    return bool(_MANAGEMENT.search(question))


def numbers_in(text: str) -> list[str]:
    """Numbers as written (with %, <, ≥ …), for the verbatim-number checks."""
    return [m.group(0).strip() for m in NUMBER_RE.finditer(text)]
