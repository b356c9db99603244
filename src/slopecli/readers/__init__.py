"""Readers: every source of rows behind one table protocol (:class:`slopecli.readers.table.Table`).

CSV/TSV (:mod:`.delimited`, with :mod:`.diagnosis` for file:line:column), Parquet (:mod:`.parquet`)
and rows typed on flags (:mod:`.flags`) all yield :class:`.chunk.Chunk` streams, whole or in
independent pieces, so that every command and engine reads data the same way.
"""
