"""A deterministic synthetic oncology corpus for benchmarks (the real corpus is too small for scale).

Documents look like the real pages: a title line, headings alone on a line, prose paragraphs,
`•` bullets indented two spaces per level, and drug cards (name, "FDA Approved <year>", labelled
fields on their own lines), with a `sources.yaml` beside them. The text is built from oncology
vocabulary and sentence templates by a seeded `random.Random`, so the same seed and size give
byte-identical files on every machine. Sizes are in ALLy chunks: documents are written until
ALLy's own chunker counts at least the requested number.

    python -m benchmarks.synth --chunks 5000 --out artifacts/bench/corpus-5k
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

DRUGS = [
    "blinatumomab",
    "inotuzumab ozogamicin",
    "ponatinib",
    "dasatinib",
    "imatinib",
    "nilotinib",
    "nelarabine",
    "asparaginase",
    "pegaspargase",
    "calaspargase",
    "vincristine",
    "daunorubicin",
    "doxorubicin",
    "cytarabine",
    "methotrexate",
    "mercaptopurine",
    "cyclophosphamide",
    "fludarabine",
    "clofarabine",
    "venetoclax",
    "rituximab",
    "obinutuzumab",
    "ibrutinib",
    "acalabrutinib",
    "zanubrutinib",
    "azacitidine",
    "decitabine",
    "gilteritinib",
    "midostaurin",
    "ivosidenib",
    "enasidenib",
    "lenalidomide",
    "bortezomib",
    "carfilzomib",
    "daratumumab",
    "tisagenlecleucel",
    "brexucabtagene autoleucel",
    "axicabtagene ciloleucel",
    "olverembatinib",
]
DISEASES = [
    "B-cell acute lymphoblastic leukemia",
    "T-cell acute lymphoblastic leukemia",
    "Ph+ ALL",
    "Ph-like ALL",
    "acute myeloid leukemia",
    "chronic myeloid leukemia",
    "chronic lymphocytic leukemia",
    "mantle cell lymphoma",
    "diffuse large B-cell lymphoma",
    "follicular lymphoma",
    "multiple myeloma",
    "myelodysplastic syndrome",
    "Burkitt lymphoma",
    "T-lymphoblastic lymphoma",
    "mixed-phenotype acute leukemia",
]
MARKERS = [
    "CD19",
    "CD22",
    "CD20",
    "CD33",
    "CD38",
    "BCR-ABL1",
    "T315I",
    "IKZF1",
    "CRLF2",
    "FLT3-ITD",
    "NPM1",
    "TP53",
    "KMT2A",
    "ETV6-RUNX1",
    "MRD",
    "CD7",
    "NOTCH1",
    "JAK2",
    "ABL-class fusion",
    "hypodiploidy",
]
SETTINGS = [
    "newly diagnosed",
    "relapsed or refractory",
    "MRD-positive",
    "first remission",
    "second relapse",
    "post-transplant",
    "older adults",
    "adolescents and young adults",
    "pediatric",
    "frail",
]
OUTCOMES = [
    "overall survival",
    "event-free survival",
    "complete remission rate",
    "MRD negativity",
    "relapse-free survival",
    "cumulative incidence of relapse",
    "non-relapse mortality",
]
TOXICITIES = [
    "cytokine release syndrome",
    "neurotoxicity",
    "hepatotoxicity",
    "veno-occlusive disease",
    "pancreatitis",
    "thrombosis",
    "febrile neutropenia",
    "QT prolongation",
    "tumor lysis syndrome",
    "peripheral neuropathy",
    "hyperglycemia",
    "hypersensitivity",
]
HEADINGS = [
    "Background",
    "Epidemiology",
    "Diagnosis",
    "Risk Stratification",
    "Induction",
    "Consolidation",
    "Maintenance",
    "Relapsed Disease",
    "Supportive Care",
    "Toxicity Management",
    "Monitoring",
    "Special Populations",
    "Clinical Trials",
    "Key Points",
    "Dosing",
    "Pathway Summary",
]
PUBLISHERS = ["Hematology Review Group", "Oncology Learning Hub", "Cancer Pathways Network", "Leukemia Forum"]

PROSE = [
    "In {setting} {disease}, {drug} improved {outcome} compared with standard chemotherapy in a phase {phase} trial of {n} patients.",
    "Patients with {marker} alterations have a higher risk of relapse and are usually considered for {drug}.",
    "{drug} is given at {dose} mg/m² on days {d1} and {d2} of each {cycle}-day cycle.",
    "The most frequent grade 3 or higher adverse event with {drug} was {tox}, seen in {pct}% of patients.",
    "Measurable residual disease below 10⁻{exp} after induction predicts superior {outcome}.",
    "Combination of {drug} with {drug2} produced a {pct}% {outcome} at {months} months.",
    "Screening for {marker} at diagnosis guides the choice between {drug} and {drug2}.",
    "Dose reductions of {drug} are recommended for {tox} of grade {grade} or higher.",
    "In {setting} patients, allogeneic transplantation after {drug} remains an option when MRD persists.",
    "Median follow-up was {months} months and median {outcome} had not been reached.",
    "Prophylaxis against {tox} is advised before the first dose of {drug}.",
    "{marker} testing by flow cytometry or PCR should be repeated at the end of {heading_l}.",
]
BULLETS = [
    "{drug} {dose} mg/m² IV, days {d1}-{d2}",
    "Monitor for {tox} during the first {cycle} days",
    "{marker}-positive disease: add {drug}",
    "Check {marker} status before {heading_l}",
    "{outcome}: {pct}% at {months} months",
    "Avoid {drug2} with strong CYP3A4 inhibitors",
]
FIELDS = [
    "Approved Indications (US/FDA)",
    "Dosing Schedule",
    "Cycle Length",
    "Combination Therapy",
    "Manufacturer",
    "Approval Year",
    "Key Toxicities",
]


def _fill(template: str, r: random.Random, heading: str) -> str:
    drug, drug2 = r.sample(DRUGS, 2)
    return template.format(
        setting=r.choice(SETTINGS),
        disease=r.choice(DISEASES),
        drug=drug,
        drug2=drug2,
        outcome=r.choice(OUTCOMES),
        phase=r.choice(["1", "2", "3"]),
        n=r.randint(20, 900),
        marker=r.choice(MARKERS),
        dose=r.choice([15, 25, 30, 60, 100, 1000, 1500]),
        d1=r.randint(1, 8),
        d2=r.randint(9, 28),
        cycle=r.choice([14, 21, 28, 42]),
        tox=r.choice(TOXICITIES),
        pct=r.randint(3, 95),
        exp=r.choice([3, 4, 5]),
        months=r.randint(6, 72),
        grade=r.choice([2, 3, 4]),
        heading_l=heading.lower(),
    )


def document(seed: int, index: int) -> tuple[str, str]:
    """(title, text) of document `index`; deterministic in (seed, index)."""
    r = random.Random(seed * 1_000_003 + index)
    disease = r.choice(DISEASES)
    title = f"{disease.capitalize()}: {r.choice(['practical review', 'treatment pathway', 'drug overview', 'trial update'])} {index}"
    lines = [title, ""]
    for heading in r.sample(HEADINGS, r.randint(4, 7)):
        lines += [heading, ""]
        for _ in range(r.randint(1, 3)):
            lines += [" ".join(_fill(t, r, heading) for t in r.sample(PROSE, r.randint(3, 6))), ""]
        if r.random() < 0.6:
            for _ in range(r.randint(3, 6)):
                lines.append("•  " + _fill(r.choice(BULLETS), r, heading))
                if r.random() < 0.3:
                    lines.append("    •  " + _fill(r.choice(BULLETS), r, heading))
            lines.append("")
        if r.random() < 0.35:
            drug = r.choice(DRUGS)
            lines += [
                drug,
                f"FDA Approved {r.randint(1995, 2025)} {r.choice(['1st Line', '2nd Line+', 'Ph+ ALL', 'T-ALL'])}",
            ]
            for f in FIELDS:
                lines += [f, _fill(r.choice(PROSE), r, heading) if f != "Approval Year" else str(r.randint(1995, 2025))]
            lines.append("")
    return title, "\n".join(lines) + "\n"


def generate(out: Path, chunks: int, seed: int = 8) -> int:
    """Write documents into `out` until ALLy's chunker counts >= `chunks`; returns the chunk count."""
    from ally.settings import Settings
    from ingest.chunk import Chunker
    from ingest.embed import model_path, token_counter
    from ingest.loaders import load_file

    settings = Settings(store=out / ".unused")
    chunker = Chunker(token_counter(model_path(settings)), settings.chunk_max_tokens, settings.prose_chunk_tokens)
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    sources: list[str] = ["# synthetic benchmark corpus (benchmarks/synth.py); not clinical content"]
    index = 0
    while total < chunks:
        title, text = document(seed, index)
        name = f"doc-{index:06d}.txt"
        path = out / name
        path.write_text(text, encoding="utf-8")
        r = random.Random(seed + index)
        entry = f'- file: {name}\n  title: "{title}"\n  publisher: {r.choice(PUBLISHERS)}\n  kind: review\n  year: {r.randint(2015, 2025)}'
        sources.append(entry)
        for doc in load_file(path, None, max_bytes=settings.max_file_bytes):
            total += len(chunker.chunk(doc))
        index += 1
    (out / "sources.yaml").write_text("\n".join(sources) + "\n", encoding="utf-8")
    return total


def questions(seed: int, n: int) -> list[str]:
    """Deterministic clinician-style questions over the synthetic vocabulary."""
    r = random.Random(seed)
    forms = [
        "What is the dose of {drug} in {disease}?",
        "Which toxicities occur with {drug}?",
        "How is {marker}-positive {disease} treated?",
        "What is the {outcome} with {drug} in {setting} patients?",
        "When is transplant considered after {drug}?",
        "How should {tox} from {drug} be managed?",
    ]
    return [
        r.choice(forms).format(
            drug=r.choice(DRUGS),
            disease=r.choice(DISEASES),
            marker=r.choice(MARKERS),
            outcome=r.choice(OUTCOMES),
            setting=r.choice(SETTINGS),
            tox=r.choice(TOXICITIES),
        )
        for _ in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, required=True, help="ALLy chunks to generate (at least)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    print(generate(args.out, args.chunks, args.seed))


if __name__ == "__main__":
    main()
