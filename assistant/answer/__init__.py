"""The answer path, one module per step in the order data flows:

`question` (intent, terms, scope) · `followup` (earlier turns) · `patient` (a described patient)
· `population` (whom a question and a passage concern) · `retrieval` (dense + BM25, fused) ·
`evidence` (units of the retrieved passages, scored) · `choose` (which units answer, or why
abstain) · `render` (cited sentences, citation numbering, the `Answer`) · `llm` (optional
rephrasing, verified sentence by sentence). `assistant.service` calls them in that order.
"""
