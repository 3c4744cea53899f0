"""From a `Project` to an `Evaluation`: rules applied, budget rates, the audit of every stated figure.

Modules: `evaluate` (`evaluate`, `evaluate_many`, `evaluate_frames`, `Evaluation`), `budget` (预算执行率, 资金到位率,
偏差率), `audit` (findings: every stated figure recomputed), `deviations` (the one definition of a deviation),
`understood` (how each target and actual was understood), `evidence` (the evidence ledger and materials
checklist; `evidence_command` is `perfeval materials`) and `tidy` (`evaluate_portfolio`, tidy frames).

Scoring may import the sheets (`perfeval.sheets`) and the shared basics; the sheets never import scoring.
"""
