"""Batch runs over a portfolio: parallel reports, failure isolation, resume, one summary.

    from perfeval.batch import run_batch
    result = run_batch(["项目文件夹/"], "reports", formats=("html",))

Modules: `discover` (inputs → validated, scored, hashed projects), `contain` (each file read in
a worker process with memory and time limits, so a reader that crashes fails that file only),
`manifest` (fingerprints, records, atomic writes), `worker` (one project in its own process), `runner` (local process
pool or Dask), `pipeline` (plan, run, summarise), `summary` (summary.xlsx, index.html),
`portfolio_charts`, `status` (the Status / Stage / JobStatus enums), `command` (CLI). Fault injection
for the failure-isolation tests lives with the tests (tests/faultinject), never in the package.
"""

from perfeval.batch.pipeline import BatchResult, ProjectStatus, run_batch

__all__ = ["BatchResult", "ProjectStatus", "run_batch"]
