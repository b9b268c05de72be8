"""Measurement of Docent's retrieval, kept apart from the product apps.

`metrics` reads QA sets and turns ranked documents into hit@1, hit@5 and
MRR@10; `baseline` is the plain recipe measured beside Docent; `run` puts
them together for the `evaluate` command and the scripts in bench/;
`variants` names search tunings worth measuring against the default.
Nothing in knowledge/ or chatbot/ imports this package.
"""
