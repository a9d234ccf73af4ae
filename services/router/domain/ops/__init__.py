"""Pure ops logic: stats projection and formulas, Erlang C / Erlang A. No I/O."""
