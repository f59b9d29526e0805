//! keepalived.conf: lexer, parser and the typed configuration the agent runs.
