"""What benchmarks/generate.py makes its data of, apart from how it combines it.

- ntriples: the IRIs and literals as ready N-Triples terms, and the buffered writer;
- pools: the fixed word lists (roles, topics, languages, syllables, surnames) that names,
  labels and topics are drawn from.

generate.py keeps the Generator (one class: the graph's state and the records it adds) and the
command line. The pools are data, the terms are formatting: both change for other reasons than the
shape of the generated graph, and a change to them changes every generated file, so they are
read apart. Nothing here draws a random number: the output for a seed is fixed by generate.py.
"""
