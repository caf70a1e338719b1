"""The SPARQL endpoint benchmark of benchmarks/run.py (ours against Oxigraph server and
rdflib-endpoint), in the order a run goes through it.

- common: paths, the servers' names, the log line;
- client: one kept-alive HTTP connection and the check of a SPARQL JSON answer;
- servers: starting each server (tests/support/processes.py starts and stops the processes);
- queries: a scale's data, its N-Quads and the query texts with their parameters;
- measure: latency and throughput of one query on one server;
- machine: the machine, and how busy other processes keep it;
- bench: one server through every query of a scale;
- report: the Markdown tables and the summary.

run.py holds the command line. A package rather than one file so that each part can be read
(and reused: floor.py takes the client and the servers) on its own.
"""
